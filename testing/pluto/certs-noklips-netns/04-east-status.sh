python -m whack --rundir $HOSTDIR/run --trafficstatus
grep "authenticated peer" $HOSTDIR/pluto.log
python -m whack --rundir $HOSTDIR/run --name west-east --delete
