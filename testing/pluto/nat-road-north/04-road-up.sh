# inside UML the first IKE_AUTH answer can take a few seconds: retransmits are left out
python -m whack --rundir $HOSTDIR/run --name road --initiate | grep -v ': retransmission; will wait'
