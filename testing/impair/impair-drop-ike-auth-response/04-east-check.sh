grep -e IMPAIR -e duplicate $HOSTDIR/pluto.log
python -m whack --rundir $HOSTDIR/run --showstates
python -m whack --rundir $HOSTDIR/run --shutdown
