python -m labs.peers libreswan whack --showstates
python -m labs.peers libreswan whack --trafficstatus
# the same ESP, decrypted with the keys libreswan installed in its kernel
python -m labs.verify xfrm
python -m labs.verify esp $CAPTURES/east-west.pcap
# round 1 ends with a delete from libreswan, the responder
python -m labs.peers libreswan whack --name westnet-eastnet --terminate
sleep 0.5
python -m labs.peers libreswan whack --showstates
python -m labs.peers libreswan whack --status | grep -E '"westnet-eastnet":.*(routed|eroute)'
ip xfrm state
# its SAs and policies (the per-socket IKE bypass policies are left out)
python -m labs.verify xfrm
# libreswan keeps a trap (on-demand) policy for the connection after the delete: unroute
python -m labs.peers libreswan whack --name westnet-eastnet --unroute
python -m labs.verify xfrm
