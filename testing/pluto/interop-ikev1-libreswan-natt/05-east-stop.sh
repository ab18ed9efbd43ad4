python -m labs.peers libreswan whack --showstates
python -m labs.verify xfrm
python -m labs.peers libreswan stop
# the ISAKMP messages after the NAT
python $SCENARIO/../ikev1-aggressive/isakmp_dump.py $CAPTURES/east-west.pcap
