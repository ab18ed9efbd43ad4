# a second is plenty for a revival to show (it would start at once)
sleep 1
grep west-east $HOSTDIR/pluto.log
python -m whack --rundir $HOSTDIR/run --showstates
python -m whack --rundir $HOSTDIR/run --status | grep "newest IKE SA"
# part two: up again, then east forgets the SAs without telling west
python -m whack --rundir $HOSTDIR/run --name west-east --initiate
