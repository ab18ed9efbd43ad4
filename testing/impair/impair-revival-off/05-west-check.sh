# a second is plenty for a revival to show (the first attempt starts at once); the impair
# decides: the attempt is announced, then skipped
sleep 1
grep -e west-east -e IMPAIR $HOSTDIR/pluto.log
python -m whack --rundir $HOSTDIR/run --showstates
python -m whack --rundir $HOSTDIR/run --status | grep "newest IKE SA"
# part two: up again, then east forgets the SAs without telling west
python -m whack --rundir $HOSTDIR/run --name west-east --initiate
