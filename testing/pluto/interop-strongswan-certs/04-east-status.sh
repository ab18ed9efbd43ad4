python -m labs.peers strongswan status
grep -E "authentication of|received end entity cert|sending end entity cert|sending cert request|received cert request" $HOSTDIR/strongswan/charon.log | sed -e 's/^.*\[IKE\] //' -e 's/^.*\[CFG\] //'
