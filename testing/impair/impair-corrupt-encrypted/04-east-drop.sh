timeout 10 sh -c 'until grep -qs integrity $HOSTDIR/pluto.log; do sleep 0.02; done'
grep west-east $HOSTDIR/pluto.log
