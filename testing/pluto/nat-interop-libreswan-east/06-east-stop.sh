python -m labs.peers libreswan whack --showstates
ip xfrm state
python -m labs.verify xfrm
# the IKE messages after the NAT; each retransmission shown once
python -m labs.verify ike --skip-retransmits $CAPTURES/east-west.pcap
python -m labs.peers libreswan stop
