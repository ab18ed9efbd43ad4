# our pluto, the initiator, deletes the IKE SA
python -m whack --rundir $HOSTDIR/run --name road --terminate
sleep 0.5
python -m whack --rundir $HOSTDIR/run --showstates
ip xfrm state
ip xfrm policy
