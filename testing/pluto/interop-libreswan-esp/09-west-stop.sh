# retransmissions (UML is slow, so their number varies) are shown once
python -m labs.verify ike --skip-retransmits $CAPTURES/east-west.pcap
python -m whack --rundir $HOSTDIR/run --shutdown
