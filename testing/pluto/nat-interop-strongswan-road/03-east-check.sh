# the %any template was instantiated for nic's address, IKE on 4500
python -m whack --rundir $HOSTDIR/run --showstates
python -m whack --rundir $HOSTDIR/run --trafficstatus
python -m labs.verify xfrm
python -m labs.nat encap
# after the NAT: ESP in UDP from nic's address, with its ports as captured, decrypted
# by scapy with east's keys
python -m labs.verify esp --show-encap $CAPTURES/east-west.pcap
