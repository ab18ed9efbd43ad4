python $SCENARIO/fill-keys.py $SCENARIO/west.ipsec.conf.in $HOSTDIR/west.ipsec.conf
python -m pluto --config $HOSTDIR/west.ipsec.conf --stderrlog --rundir $HOSTDIR/run \
      --listen 198.51.100.45 --secretsfile $HOSTDIR/ipsec.secrets --impair revival 2>$HOSTDIR/pluto.log
grep -E 'added' $HOSTDIR/pluto.log
