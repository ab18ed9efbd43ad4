python -m whack --rundir $HOSTDIR/run --showstates
python -m whack --rundir $HOSTDIR/run --trafficstatus
# nothing reached the kernel: --noklips
ip xfrm state
python -m whack --rundir $HOSTDIR/run --name west-east --delete
