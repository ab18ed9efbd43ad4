python -m labs.verify xfrm
python -m whack --rundir $HOSTDIR/run --trafficstatus
python -m labs.verify esp $CAPTURES/east-west.pcap
