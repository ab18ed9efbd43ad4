python -m whack --rundir $HOSTDIR/run --showstates
grep -E 'received Delete' $HOSTDIR/pluto.log | tail -n 2
python -m labs.verify xfrm
python $SCENARIO/../ikev1-aggressive/isakmp_dump.py $CAPTURES/east-west.pcap
python -m whack --rundir $HOSTDIR/run --shutdown
