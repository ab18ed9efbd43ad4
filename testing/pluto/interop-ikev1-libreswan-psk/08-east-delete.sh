python -m labs.peers libreswan whack --trafficstatus
# round 2 ends with a delete from libreswan, the initiator (a delete from our pluto would
# make libreswan replace the SAs at once: see description.txt)
python -m labs.peers libreswan whack --name westnet-eastnet --terminate
sleep 0.5
python -m labs.peers libreswan whack --showstates
ip xfrm state
python -m labs.verify xfrm
python -m labs.peers libreswan whack --name westnet-eastnet --unroute
python -m labs.verify xfrm
python -m labs.peers libreswan stop
