grep -e IMPAIR -e duplicate $HOSTDIR/pluto.log
python -m whack --rundir $HOSTDIR/run --showstates
# how often each message crossed the LAN (counted: copies sent back to back may be
# captured in either order)
python -m labs.verify ike $CAPTURES/east-west.pcap | sort | uniq -c
python -m whack --rundir $HOSTDIR/run --shutdown
