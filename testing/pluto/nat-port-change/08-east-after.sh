# the new mapping: a port from 21000-21999 (NEWPORT), in IKE and in the kernel SAs, which
# were updated in place: their sequence numbers go on (the ESP below), so road drops nothing
python -m whack --rundir $HOSTDIR/run --showstates | grep IKE_SA | python -m labs.nat mark 20000-20999=OLDPORT 21000-21999=NEWPORT
python -m labs.nat encap 20000-20999=OLDPORT 21000-21999=NEWPORT
python -m whack --rundir $HOSTDIR/run --trafficstatus
python -m labs.verify esp $CAPTURES/east-west.pcap
