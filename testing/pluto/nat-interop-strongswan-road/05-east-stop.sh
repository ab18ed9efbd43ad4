# the delete removed the instance; only the template is left
python -m whack --rundir $HOSTDIR/run --showstates
python -m whack --rundir $HOSTDIR/run --status | grep '^"road":'
grep -E 'received Delete' $HOSTDIR/pluto.log
# the IKE messages after the NAT; each retransmission shown once
python -m labs.verify ike --skip-retransmits $CAPTURES/east-west.pcap
python -m whack --rundir $HOSTDIR/run --shutdown
