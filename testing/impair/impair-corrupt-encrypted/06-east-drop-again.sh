# the request and its first two retransmissions: all three fail the integrity check
timeout 10 sh -c 'until [ "$(grep -cs integrity $HOSTDIR/pluto.log)" -ge 3 ]; do sleep 0.02; done'
grep -m 3 integrity $HOSTDIR/pluto.log
