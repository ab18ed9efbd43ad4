sleep 0.5
ip xfrm state
ip xfrm policy
python -m whack --rundir $HOSTDIR/run --shutdown
