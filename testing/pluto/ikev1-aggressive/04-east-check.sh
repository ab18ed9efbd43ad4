# the responder warned too
grep -E 'Aggressive|dictionary' $HOSTDIR/pluto.log
python -m whack --rundir $HOSTDIR/run --showstates | sed -E "s/ESP(in|out)=[1-9][0-9]*K?B/ESP\1=NONZERO/g"
python -m labs.verify xfrm
