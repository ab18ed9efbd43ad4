# outbound #5: east's liveness probe (after #1-#4 of the exchange above); west answers both
# copies, the second from its cache
python -m whack --rundir $HOSTDIR/run --impair duplicate-outbound:5
python -m whack --rundir $HOSTDIR/run --impair liveness:1
sleep 0.3
grep -e IMPAIR -e duplicate $HOSTDIR/pluto.log
python -m whack --rundir $HOSTDIR/run --showstates
