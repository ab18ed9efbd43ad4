# the new IKE SA from @west replaced the old one (uniqueids); the old Child SA went with it
grep -c 'uniqueids: IKE SA #1' $HOSTDIR/pluto.log
python -m labs.verify xfrm | sed -E 's/packets=[0-9]+ bytes=[0-9]+/COUNTERS/'
# now east dies; it comes back with auto=add and waits for west
kill -9 $(cat $HOSTDIR/run/pluto.pid)
sleep 0.2
python -m pluto --config $SCENARIO/east.conf --uniqueids --stderrlog --rundir $HOSTDIR/run \
      --listen 198.51.100.23 --secretsfile $HOSTDIR/ipsec.secrets --impair revival 2>$HOSTDIR/pluto-2.log
grep 'start-up sweep' $HOSTDIR/pluto-2.log | sed -E 's/esp\.[0-9a-f]+@/esp.SPISPI@/' | sort
ip xfrm state
