install -m 600 $SCENARIO/west.secrets $HOSTDIR/ipsec.secrets
mkdir -p $HOSTDIR/run
python -m pluto --config $SCENARIO/west.ipsec.conf --stderrlog --rundir $HOSTDIR/run \
      --listen 198.51.100.45 --secretsfile $HOSTDIR/ipsec.secrets --impair revival 2>$HOSTDIR/pluto.log
grep -E 'added' $HOSTDIR/pluto.log
