python -m labs.peers libreswan whack --showstates
python -m labs.verify xfrm
python -m labs.nat encap
# after the NAT: ESP in UDP from nic's address, decrypted by scapy with libreswan's keys
python -m labs.verify esp --show-encap $CAPTURES/east-west.pcap
