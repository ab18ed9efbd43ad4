install -m 600 $SCENARIO/secrets $HOSTDIR/ipsec.secrets
mkdir -p $HOSTDIR/run
# east answers IKE_SA_INIT, then hears nothing more (west's IKE_AUTH is dropped on arrival)
python -m pluto --config $SCENARIO/east.conf --stderrlog --rundir $HOSTDIR/run \
      --listen 198.51.100.23 --secretsfile $HOSTDIR/ipsec.secrets --impair revival \
      --impair block-inbound:2 2>$HOSTDIR/pluto.log
