python -m labs.peers libreswan whack --showstates
# the delete it received from east (without libreswan's timestamp)
grep -E 'deleting state' $HOSTDIR/libreswan/pluto.log | sed -E 's/^[A-Z][a-z]+ +[0-9]+ [0-9:.]+: //'
ip xfrm state
# libreswan keeps a trap (on-demand) policy for the connection after the delete: unroute
python -m labs.verify xfrm
python -m labs.peers libreswan whack --name road --unroute
python -m labs.verify xfrm
python -m labs.peers libreswan stop
