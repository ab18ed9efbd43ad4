python -m whack --rundir $HOSTDIR/run --impair send-no-delete
python -m whack --rundir $HOSTDIR/run --name west-east --terminate
python -m whack --rundir $HOSTDIR/run --showstates
grep IMPAIR $HOSTDIR/pluto.log
