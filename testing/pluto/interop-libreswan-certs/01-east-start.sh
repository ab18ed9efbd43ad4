python $SCENARIO/mkpki.py $WORKDIR
mkdir -p $HOSTDIR/libreswan/nss
certutil -N -d sql:$HOSTDIR/libreswan/nss --empty-password
certutil -A -d sql:$HOSTDIR/libreswan/nss -n "Interop Root CA" -t "CT,," -a -i $WORKDIR/pki/root.pem
pk12util -i $WORKDIR/pki/east.p12 -d sql:$HOSTDIR/libreswan/nss -w $WORKDIR/pki/east.p12.password
certutil -L -d sql:$HOSTDIR/libreswan/nss
python -m labs.peers libreswan start $SCENARIO/east.ipsec.conf $SCENARIO/east.secrets
python -m labs.peers libreswan whack --impair revival
