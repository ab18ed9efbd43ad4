python -m whack --rundir $HOSTDIR/run --shutdown
