python -m whack --rundir $HOSTDIR/run --showstates
# what our pluto logged of the peer's messages and deletes
grep -E "Delete|INVALID_SYNTAX|IKE_SA_INIT response to" $HOSTDIR/pluto.log
