# our pluto, the initiator, deletes
python -m whack --rundir $HOSTDIR/run --name road --terminate
sleep 0.5
python -m whack --rundir $HOSTDIR/run --showstates
python -m labs.verify xfrm
