python -m whack --rundir $HOSTDIR/run --name road --initiate | grep -v ': retransmission; will wait'
python -m labs.verify xfrm
