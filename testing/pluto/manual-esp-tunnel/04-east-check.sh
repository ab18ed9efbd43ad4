# the capture holds only ESP between the outside addresses; scapy decrypts all of it
python -m labs.verify pings $CAPTURES/east-west.pcap
python -m labs.verify esp $CAPTURES/east-west.pcap
python -m labs.verify xfrm
