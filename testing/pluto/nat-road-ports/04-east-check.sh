# nic rewrote road's ports into 20000-20999 (shown as NICPORT): IKE and ESP go there
python -m whack --rundir $HOSTDIR/run --showstates | python -m labs.nat mark
python -m whack --rundir $HOSTDIR/run --trafficstatus
python -m labs.verify xfrm
python -m labs.nat encap
# after the NAT: ESP in UDP from nic's address, decrypted by scapy with east's keys
python -m labs.verify esp $CAPTURES/east-west.pcap
