python -m whack --rundir $HOSTDIR/run --showstates | sed -E "s/ESP(in|out)=[1-9][0-9]*K?B/ESP\1=NONZERO/g"
python -m whack --rundir $HOSTDIR/run --name westnet-eastnet --terminate
ip xfrm state
python -m labs.verify xfrm
