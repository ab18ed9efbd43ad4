timeout 10 sh -c 'until grep -qs "established Child SA" $HOSTDIR/pluto.log; do sleep 0.05; done'
grep "west-east" $HOSTDIR/pluto.log
python -m whack --rundir $HOSTDIR/run --showstates
