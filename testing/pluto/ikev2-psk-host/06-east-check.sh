sleep 0.5
python -m whack --rundir $HOSTDIR/run --showstates
grep -i 'delete' $HOSTDIR/pluto.log
ip xfrm state
ip xfrm policy
python -m whack --rundir $HOSTDIR/run --shutdown
