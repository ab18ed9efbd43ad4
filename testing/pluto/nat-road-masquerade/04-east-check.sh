python -m whack --rundir $HOSTDIR/run --showstates
python -m whack --rundir $HOSTDIR/run --trafficstatus
python -m labs.verify xfrm
# masquerade kept road's ports: ESP in UDP between 4500 and 4500
python -m labs.nat encap
# after the NAT: ESP in UDP from nic's address, decrypted by scapy with east's keys
python -m labs.verify esp $CAPTURES/east-west.pcap
