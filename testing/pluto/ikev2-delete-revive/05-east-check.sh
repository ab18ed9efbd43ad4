python -m whack --rundir $HOSTDIR/run --showstates
# east answered only: nothing of it was revived
grep -c 'reviv' $HOSTDIR/pluto.log || true
