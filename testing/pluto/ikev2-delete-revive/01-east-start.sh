install -m 600 $SCENARIO/secrets $HOSTDIR/ipsec.secrets
mkdir -p $HOSTDIR/run
python -m pluto --noklips --stderrlog --rundir $HOSTDIR/run --listen 198.51.100.23 \
      --secretsfile $HOSTDIR/ipsec.secrets 2>$HOSTDIR/pluto.log
python -m whack --rundir $HOSTDIR/run --name west-east \
      --id @west --host 198.51.100.45 --client 198.18.1.0/24 \
      --to --id @east --host 198.51.100.23 --client 198.18.2.0/24 --psk --encrypt --tunnel --pfs
