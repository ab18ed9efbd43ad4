install -m 600 $SCENARIO/secrets $HOSTDIR/ipsec.secrets
sed "s#@UPDOWN@#$SCENARIO/updown.sh#" $SCENARIO/ipsec.conf >$HOSTDIR/ipsec.conf
mkdir -p $HOSTDIR/run
python -m pluto --config $HOSTDIR/ipsec.conf --stderrlog --rundir $HOSTDIR/run --listen 198.51.100.45 \
      --secretsfile $HOSTDIR/ipsec.secrets --impair revival 2>$HOSTDIR/pluto.log
