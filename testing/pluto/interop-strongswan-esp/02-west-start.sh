install -m 600 $SCENARIO/west.secrets $HOSTDIR/ipsec.secrets
mkdir -p $HOSTDIR/run
python -m pluto --stderrlog --rundir $HOSTDIR/run --listen 198.51.100.45 \
      --secretsfile $HOSTDIR/ipsec.secrets --impair revival 2>$HOSTDIR/pluto.log
python -m whack --rundir $HOSTDIR/run --optionsfrom $SCENARIO/conn.options
