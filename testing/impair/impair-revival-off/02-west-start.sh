install -m 600 $SCENARIO/secrets $HOSTDIR/ipsec.secrets
mkdir -p $HOSTDIR/run
# no --impair revival here: it is set below with whack
python -m pluto --config $SCENARIO/west.ipsec.conf --stderrlog --rundir $HOSTDIR/run \
      --secretsfile $HOSTDIR/ipsec.secrets 2>$HOSTDIR/pluto.log
python -m whack --rundir $HOSTDIR/run --impair revival
python -m whack --rundir $HOSTDIR/run --impair list
