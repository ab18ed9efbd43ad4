python -m labs.peers libreswan whack --showstates
grep -E "authenticated peer|established IKE SA" $HOSTDIR/libreswan/pluto.log | sed -e 's/^.*"west-east"/"west-east"/'
