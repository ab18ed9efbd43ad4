python -m whack --rundir $HOSTDIR/run --showstates
grep -E 'received Delete' $HOSTDIR/pluto.log
ip xfrm state
python -m labs.verify xfrm
