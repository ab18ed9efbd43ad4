install -m 600 $SCENARIO/secrets $HOSTDIR/ipsec.secrets
mkdir -p $HOSTDIR/run
# auto=start: pluto initiates on its own; wait for the Child SA in its log
python -m pluto --config $SCENARIO/west.conf --stderrlog --rundir $HOSTDIR/run \
      --listen 198.51.100.45 --secretsfile $HOSTDIR/ipsec.secrets 2>$HOSTDIR/pluto.log
python -m testing.faults.wait_log $HOSTDIR/pluto.log 'established Child SA' --timeout 40
python -m labs.verify xfrm | sed -E 's/packets=[0-9]+ bytes=[0-9]+/COUNTERS/'
ping -n -q -c 2 -i 0.2 -W 2 -I 198.18.1.254 198.18.2.254
