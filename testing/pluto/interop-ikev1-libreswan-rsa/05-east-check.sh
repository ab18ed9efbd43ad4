python -m labs.peers libreswan whack --showstates
python -m labs.peers libreswan whack --trafficstatus
python -m labs.verify xfrm
python -m labs.verify esp $CAPTURES/east-west.pcap
# round 1 ends with a delete from libreswan, the responder
python -m labs.peers libreswan whack --name westnet-eastnet --terminate
sleep 0.5
python -m labs.peers libreswan whack --showstates
python -m labs.peers libreswan whack --name westnet-eastnet --unroute
python -m labs.verify xfrm
