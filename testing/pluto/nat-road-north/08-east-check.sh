# two instances of one template, one per peer, told apart by nic's ports
python -m whack --rundir $HOSTDIR/run --showstates | python -m labs.nat mark
python -m whack --rundir $HOSTDIR/run --trafficstatus
python -m whack --rundir $HOSTDIR/run --status | grep '^"road"\[' | grep -v ':  ' | python -m labs.nat mark
python -m labs.verify xfrm
python -m labs.nat encap
python -m labs.verify esp $CAPTURES/east-west.pcap
