python -m whack --rundir $HOSTDIR/run --showstates
grep "authenticated peer" $HOSTDIR/pluto.log
