# east saw the rekey; from now on both ends ignore soft EXPIREs, so only the hard limit acts
grep -E 'EXPIRE|rekeyed Child SA|Child SA' $HOSTDIR/pluto.log | grep -v '^|' | sed -E 's/0x[0-9a-f]{8}/0xSPISPI/g'
python -m whack --rundir $HOSTDIR/run --impair ignore-soft-expire
