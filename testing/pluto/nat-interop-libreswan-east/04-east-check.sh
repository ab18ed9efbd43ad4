# libreswan instantiated its %any connection for nic's address
python -m labs.peers libreswan whack --showstates
python -m labs.peers libreswan whack --trafficstatus
python -m labs.verify xfrm
python -m labs.nat encap
# after the NAT: ESP in UDP from nic's address, with its ports as captured, decrypted
# by scapy with libreswan's keys
python -m labs.verify esp --show-encap $CAPTURES/east-west.pcap
