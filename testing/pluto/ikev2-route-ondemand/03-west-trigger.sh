# the first packet hits the trap policy: the kernel's ACQUIRE makes pluto initiate; that
# packet itself is dropped while the SA is negotiated, so its result is not shown
ping -n -q -c 1 -W 1 -I 198.18.1.254 198.18.2.254 >/dev/null 2>&1; echo first ping sent
# wait (at most 15 s) until the Child SA is up
for i in $(seq 30); do python -m whack --rundir $HOSTDIR/run --trafficstatus | grep -q type=ESP && break; sleep 0.5; done
grep -v ': retransmission; will wait' $HOSTDIR/pluto.log | grep -E 'initiat|established'
ping -n -q -c 3 -i 0.2 -W 2 -I 198.18.1.254 198.18.2.254
python -m whack --rundir $HOSTDIR/run --trafficstatus
python -m labs.verify xfrm
python -m labs.verify esp $CAPTURES/east-west.pcap
