python $SCENARIO/mkpki.py $WORKDIR/pki
mkdir -p $HOSTDIR/run
python -m pluto --noklips --stderrlog --rundir $HOSTDIR/run --listen 198.51.100.23 \
      --secretsfile $WORKDIR/pki/east.secrets --certdir $WORKDIR/pki/east \
      --impair revival 2>$HOSTDIR/pluto.log
python -m whack --rundir $HOSTDIR/run --listcerts | grep -E "List|nickname|subject|issuer|private"
python -m whack --rundir $HOSTDIR/run --name west-east \
      --id %fromcert --host 198.51.100.45 --client 198.18.1.0/24 \
      --to --cert east --host 198.51.100.23 --client 198.18.2.0/24 --rsasig --encrypt --tunnel --pfs
