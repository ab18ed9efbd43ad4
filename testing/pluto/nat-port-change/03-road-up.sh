# inside UML the first IKE_AUTH answer can take a few seconds: retransmits are left out
python -m whack --rundir $HOSTDIR/run --name road --initiate | grep -v ': retransmission; will wait'
ping -n -q -c 2 -i 0.2 -W 2 -I 203.0.113.209 198.18.2.254
