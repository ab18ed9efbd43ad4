# terminate: the SAs go, the connection stays routed (trap policies back in place)
python -m whack --rundir $HOSTDIR/run --name westnet-eastnet --terminate
python -m labs.verify xfrm
python -m whack --rundir $HOSTDIR/run --name westnet-eastnet --unroute
ip xfrm state
ip xfrm policy
python -m whack --rundir $HOSTDIR/run --shutdown
