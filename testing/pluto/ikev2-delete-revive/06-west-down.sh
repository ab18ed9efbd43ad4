# taken down on purpose: west does not revive it
python -m whack --rundir $HOSTDIR/run --name west-east --terminate
sleep 0.5
python -m whack --rundir $HOSTDIR/run --showstates
grep -c 'reviving connection' $HOSTDIR/pluto.log
python -m labs.verify ike $CAPTURES/east-west.pcap
python -m whack --rundir $HOSTDIR/run --shutdown
