python -m whack --rundir $HOSTDIR/run --trafficstatus
python -m labs.verify xfrm
