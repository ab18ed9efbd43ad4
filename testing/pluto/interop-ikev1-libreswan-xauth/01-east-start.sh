mkdir -p $HOSTDIR/libreswan
# alice's password, SHA-512 crypt(3), in libreswan's passwd file
printf 'alice:%s:westnet-eastnet\n' "$(openssl passwd -6 "alice's lab password")" >$HOSTDIR/libreswan/passwd
python -m labs.peers libreswan start $SCENARIO/east.ipsec.conf $SCENARIO/east.secrets
python -m labs.peers libreswan whack --impair revival
python -m labs.verify udp-echo-server 198.18.2.254 7 1 --timeout 90 >/dev/null 2>&1 &
