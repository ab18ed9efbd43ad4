python -m labs.verify pings $CAPTURES/east-west.pcap
