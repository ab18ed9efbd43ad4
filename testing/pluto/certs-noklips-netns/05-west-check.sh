sleep 0.5
python -m whack --rundir $HOSTDIR/run --showstates
python -m labs.verify ike $CAPTURES/east-west.pcap
python $SCENARIO/check_certreq.py $CAPTURES/east-west.pcap $WORKDIR/pki/west/cacerts/lab-root.pem
python -m whack --rundir $HOSTDIR/run --shutdown
