python -m labs.peers libreswan whack --showstates
python -m labs.peers libreswan whack --status | grep -E '"westnet-eastnet":.*(routed|eroute)'
ip xfrm state
# its SAs and policies (the per-socket IKE bypass policies are left out)
python -m labs.verify xfrm
# the trap policy libreswan keeps after the delete, removed as in round 1
python -m labs.peers libreswan whack --name westnet-eastnet --unroute
python -m labs.verify xfrm
python -m labs.peers libreswan stop
