# the revived Child SA is the second one west establishes
python -m testing.faults.wait_log $HOSTDIR/pluto.log 'established Child SA' --count 2 --timeout 30
grep -e 'Delete' -e 'reviv' -e '#3' -e '#4' $HOSTDIR/pluto.log
python -m whack --rundir $HOSTDIR/run --showstates
