install -m 600 $SCENARIO/secrets $HOSTDIR/ipsec.secrets
mkdir -p $HOSTDIR/run
python -m pluto --config $SCENARIO/ipsec.conf --stderrlog --rundir $HOSTDIR/run --listen 198.51.100.23 \
      --secretsfile $HOSTDIR/ipsec.secrets --impair revival 2>$HOSTDIR/pluto.log
grep -E 'added|IKEv1' $HOSTDIR/pluto.log
# answers west's first UDP echo through the tunnel, then exits
python -m labs.verify udp-echo-server 198.18.2.254 7 1 --timeout 90 >/dev/null 2>&1 &
