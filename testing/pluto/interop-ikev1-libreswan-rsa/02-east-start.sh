sh $SCENARIO/east-keys.sh
grep -c '^0sAwEAA' $WORKDIR/east.pubkey
python $SCENARIO/fill-keys.py $SCENARIO/east.ipsec.conf.in $HOSTDIR/east.ipsec.conf
# no PSK: the private key is found in the NSS database by the CKAID of rightrsasigkey
: >$HOSTDIR/east.secrets
python -m labs.peers libreswan start $HOSTDIR/east.ipsec.conf $HOSTDIR/east.secrets
python -m labs.peers libreswan whack --impair revival
python -m labs.verify udp-echo-server 198.18.2.254 7 1 --timeout 90 >/dev/null 2>&1 &
python -m labs.peers libreswan whack --status | grep -E '"westnet-eastnet":.*(routed|eroute)'
python -m labs.peers libreswan whack --status | grep -E '"westnet-eastnet":.*(authby|policy):' | grep -oE 'RSASIG|authby: [a-z]+'
