# west's liveness probes go unanswered (the new east knows nothing of that IKE SA): after
# dpdtimeout west deletes its SAs and, dpdaction=restart, negotiates again
python -m testing.faults.wait_log $HOSTDIR/pluto-2.log 'peer is not responding' --timeout 40
python -m testing.faults.wait_log $HOSTDIR/pluto-2.log 'established Child SA' --count 2 --timeout 40
grep -E 'timeout exceeded|not responding|reviving' $HOSTDIR/pluto-2.log | sed -E 's/after [0-9]+ retransmits/after N retransmits/'
python -m labs.verify xfrm | sed -E 's/packets=[0-9]+ bytes=[0-9]+/COUNTERS/'
ping -n -q -c 2 -i 0.2 -W 2 -I 198.18.1.254 198.18.2.254
