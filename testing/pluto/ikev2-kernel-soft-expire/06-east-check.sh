grep -E 'received Delete|deleting|established Child SA|rekeyed Child SA' $HOSTDIR/pluto.log | grep -v '^|' | sed -E 's/0x[0-9a-f]{8}/0xSPISPI/g'
python -m whack --rundir $HOSTDIR/run --showstates | sed -E 's/ESP(in|out)=[0-9]+B/ESP\1=COUNT/g'
python -m whack --rundir $HOSTDIR/run --name westnet-eastnet --terminate
ip xfrm state
