# #1, the half-open IKE SA of the first attempt, waits for its discard timer (60 s)
python -m whack --rundir $HOSTDIR/run --showstates | sed -E 's/DISCARD in [0-9]+s/DISCARD in XXs/'
python -m whack --rundir $HOSTDIR/run --shutdown
