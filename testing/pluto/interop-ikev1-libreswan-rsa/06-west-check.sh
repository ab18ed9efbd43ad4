python -m whack --rundir $HOSTDIR/run --showstates
grep -E 'received Delete' $HOSTDIR/pluto.log
python -m labs.verify xfrm
