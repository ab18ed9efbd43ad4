python -m labs.peers strongswan status
python -m labs.verify xfrm
python -m labs.peers strongswan stop
# the ISAKMP messages after the NAT: Main Mode moves from 500 to 4500 at message 5
python $SCENARIO/../ikev1-aggressive/isakmp_dump.py $CAPTURES/east-west.pcap
