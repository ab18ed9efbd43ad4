python -m labs.peers strongswan status
python -m labs.verify xfrm
python -m labs.verify esp $CAPTURES/east-west.pcap
