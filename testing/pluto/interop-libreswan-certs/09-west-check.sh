python -m whack --rundir $HOSTDIR/run --showstates
python -m labs.verify ike $CAPTURES/east-west.pcap
python -m whack --rundir $HOSTDIR/run --shutdown
