python -m labs.peers libreswan whack --showstates
python -m labs.peers libreswan whack --trafficstatus
python -m labs.verify xfrm
python -m labs.verify esp $CAPTURES/east-west.pcap
