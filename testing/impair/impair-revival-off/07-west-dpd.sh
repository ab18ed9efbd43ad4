# dpddelay=1, dpdtimeout=2: the probe goes unanswered (east ignores unknown SPIs); the
# connection would be revived (dpdaction=restart) but for the impair (its second IMPAIR:
# revival line: the first is part one's)
timeout 10 sh -c 'until [ "$(grep -c "IMPAIR: revival" $HOSTDIR/pluto.log)" -ge 2 ]; do sleep 0.05; done'
sleep 1
grep -e IMPAIR -e "#3" -e "#4" $HOSTDIR/pluto.log
python -m whack --rundir $HOSTDIR/run --showstates
python -m whack --rundir $HOSTDIR/run --status | grep "newest IKE SA"
python -m labs.verify ike $CAPTURES/east-west.pcap
python -m whack --rundir $HOSTDIR/run --shutdown
