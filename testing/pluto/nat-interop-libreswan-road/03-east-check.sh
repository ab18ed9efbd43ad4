# nic rewrote road's ports into 20000-20999 (shown as NICPORT): IKE and ESP go there
python -m whack --rundir $HOSTDIR/run --showstates | python -m labs.nat mark
python -m whack --rundir $HOSTDIR/run --trafficstatus
python -m labs.verify xfrm
python -m labs.nat encap
# after the NAT: ESP in UDP from nic's address, with its ports as captured, decrypted
# by scapy with east's keys
python -m labs.verify esp --show-encap $CAPTURES/east-west.pcap | python -m labs.nat mark
# our pluto, the responder, deletes the instance: the request goes back through the NAT
python -m whack --rundir $HOSTDIR/run --name road --terminate
sleep 0.5
python -m whack --rundir $HOSTDIR/run --showstates
python -m whack --rundir $HOSTDIR/run --status | grep '^"road":'
python -m labs.verify xfrm
