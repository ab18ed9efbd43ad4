# this time the delete comes from west, the initiator
python -m whack --rundir $HOSTDIR/run --name west-east --terminate
ip xfrm state
ip xfrm policy
python -m whack --rundir $HOSTDIR/run --shutdown
