sleep 0.5
python -m whack --rundir $HOSTDIR/run --showstates
python -m whack --rundir $HOSTDIR/run --shutdown
