grep -e IMPAIR -e "west-east" $HOSTDIR/pluto.log
python -m whack --rundir $HOSTDIR/run --showstates
