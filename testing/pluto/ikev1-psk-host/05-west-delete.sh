python -m whack --rundir $HOSTDIR/run --name west-east --terminate
sleep 0.5
python -m whack --rundir $HOSTDIR/run --showstates
python -m labs.verify xfrm
python -m whack --rundir $HOSTDIR/run --shutdown
