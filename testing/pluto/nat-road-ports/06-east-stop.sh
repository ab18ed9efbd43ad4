sleep 0.5
# road's delete removed the instance; only the template is left
python -m whack --rundir $HOSTDIR/run --showstates
python -m whack --rundir $HOSTDIR/run --status | grep '^"road'
python -m whack --rundir $HOSTDIR/run --shutdown
