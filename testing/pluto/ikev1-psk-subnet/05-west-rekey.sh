# pings keep going (every 0.1 s for 4 s) while the IPsec SA (a new Quick Mode) and then the
# ISAKMP SA (a new Main Mode) are rekeyed; none may be lost
ping -n -q -c 40 -i 0.1 -W 2 -I 198.18.1.254 198.18.2.254 >$HOSTDIR/ping-rekey.txt 2>&1 &
sleep 0.5
python -m whack --rundir $HOSTDIR/run --name westnet-eastnet --rekey-child | grep -v ': retransmission; will wait'
sleep 0.5
python -m whack --rundir $HOSTDIR/run --name westnet-eastnet --rekey-ike | grep -v ': retransmission; will wait'
sleep 4
grep 'packets transmitted' $HOSTDIR/ping-rekey.txt
# how long the rekeys take inside UML varies: two more pings make sure the newest SAs, the
# ones shown below, have carried traffic
ping -n -q -c 2 -i 0.2 -W 2 -I 198.18.1.254 198.18.2.254
# counters are shown as NONZERO: how many pings fell on each side of the rekeys varies
python -m whack --rundir $HOSTDIR/run --showstates | sed -E 's/ESP(in|out)=[1-9][0-9]*K?B/ESP\1=NONZERO/g'
python -m labs.verify xfrm | sed -E 's/packets=[1-9][0-9]* bytes=[1-9][0-9]*/packets=NONZERO bytes=NONZERO/'
python -m labs.verify udp-echo 198.18.1.254 198.18.2.254 7 hello-after-the-rekeys
python -m whack --rundir $HOSTDIR/run --trafficstatus | sed -E 's/(in|out)Bytes=[1-9][0-9]*/\1Bytes=NONZERO/g'
