python -m labs.verify xfrm
python -m whack --rundir $HOSTDIR/run --trafficstatus
