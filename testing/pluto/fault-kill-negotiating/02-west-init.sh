install -m 600 $SCENARIO/secrets $HOSTDIR/ipsec.secrets
mkdir -p $HOSTDIR/run
python -m pluto --config $SCENARIO/west.conf --stderrlog --rundir $HOSTDIR/run \
      --listen 198.51.100.45 --secretsfile $HOSTDIR/ipsec.secrets 2>$HOSTDIR/pluto.log
python -m testing.faults.wait_log $HOSTDIR/pluto.log 'sent IKE_AUTH request' --timeout 40
# the SPI west reserved for its Child SA: a larval SA in the kernel, marked with pluto's
# larval reqid
ip xfrm state | grep -E 'reqid' | sed -E 's/spi 0x[0-9a-f]{8}/spi 0xSPISPI/'
# west dies in the middle of IKE_AUTH
kill -9 $(cat $HOSTDIR/run/pluto.pid)
sleep 0.2
ip xfrm state | grep -c 'reqid 1073741823'
