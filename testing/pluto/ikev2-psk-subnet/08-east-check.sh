# west's delete of the second round was seen: nothing left here either
python -m whack --rundir $HOSTDIR/run --showstates
grep 'received Delete' $HOSTDIR/pluto.log
ip xfrm state
python -m labs.verify xfrm
python -m whack --rundir $HOSTDIR/run --shutdown
