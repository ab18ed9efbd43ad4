sleep 0.5
python -m whack --rundir $HOSTDIR/run --showstates
# east's Delete as our log tells it
grep -i "delete" $HOSTDIR/pluto.log
python -m labs.verify ike $CAPTURES/east-west.pcap
python -m whack --rundir $HOSTDIR/run --shutdown
