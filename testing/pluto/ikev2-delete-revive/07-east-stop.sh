python -m whack --rundir $HOSTDIR/run --showstates
python -m whack --rundir $HOSTDIR/run --shutdown
