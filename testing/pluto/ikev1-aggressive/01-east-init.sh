install -m 600 $SCENARIO/secrets $HOSTDIR/ipsec.secrets
mkdir -p $HOSTDIR/run
python -m pluto --config $SCENARIO/ipsec.conf --stderrlog --rundir $HOSTDIR/run --listen 198.51.100.23 \
      --secretsfile $HOSTDIR/ipsec.secrets --impair revival 2>$HOSTDIR/pluto.log
grep 'added' $HOSTDIR/pluto.log
# answers west's UDP echo through the SA, then exits
python -m labs.verify udp-echo-server 198.51.100.23 7 1 --timeout 90 >/dev/null 2>&1 &
