install -m 600 $SCENARIO/secrets $HOSTDIR/ipsec.secrets
sed "s#@UPDOWN@#$SCENARIO/updown.sh#" $SCENARIO/ipsec.conf >$HOSTDIR/ipsec.conf
mkdir -p $HOSTDIR/run
python -m pluto --config $HOSTDIR/ipsec.conf --stderrlog --rundir $HOSTDIR/run --listen 198.51.100.23 \
      --secretsfile $HOSTDIR/ipsec.secrets --impair revival 2>$HOSTDIR/pluto.log
grep 'added' $HOSTDIR/pluto.log
# answers the UDP echo west sends from its pushed address, then exits
python -m labs.verify udp-echo-server 198.18.2.254 7 1 --timeout 90 >/dev/null 2>&1 &
