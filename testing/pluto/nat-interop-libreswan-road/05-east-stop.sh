# the IKE messages after the NAT (nic's ports as NICPORT); each retransmission shown once
python -m labs.verify ike --skip-retransmits $CAPTURES/east-west.pcap | python -m labs.nat mark
python -m whack --rundir $HOSTDIR/run --shutdown
