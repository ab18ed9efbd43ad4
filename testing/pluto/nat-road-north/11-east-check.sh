python -m whack --rundir $HOSTDIR/run --trafficstatus
