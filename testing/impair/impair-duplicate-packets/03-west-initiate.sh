python -m whack --rundir $HOSTDIR/run --name west-east --initiate
python -m whack --rundir $HOSTDIR/run --showstates
# outbound #3 will be west's answer to east's liveness probe
python -m whack --rundir $HOSTDIR/run --impair duplicate-outbound:3
