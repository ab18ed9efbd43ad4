# the stale pid file and control socket of the killed pluto are taken over
python -m pluto --config $SCENARIO/west.conf --stderrlog --rundir $HOSTDIR/run \
      --listen 198.51.100.45 --secretsfile $HOSTDIR/ipsec.secrets 2>$HOSTDIR/pluto-2.log
# the sweep ran before anything was installed (SAs first, in the kernel's order: sorted here)
grep 'start-up sweep' $HOSTDIR/pluto-2.log | sed -E 's/esp\.[0-9a-f]+@/esp.SPISPI@/' | sort
python -m testing.faults.wait_log $HOSTDIR/pluto-2.log 'established Child SA' --timeout 40
# only the new Child SA's two SAs and three policies are in the kernel
python -m labs.verify xfrm | sed -E 's/packets=[0-9]+ bytes=[0-9]+/COUNTERS/'
ping -n -q -c 2 -i 0.2 -W 2 -I 198.18.1.254 198.18.2.254
