python -m whack --rundir $HOSTDIR/run --name west-east --initiate
python -m whack --rundir $HOSTDIR/run --trafficstatus
