python -m whack --rundir $HOSTDIR/run --name west-modecfg --terminate
sleep 0.5
python -m whack --rundir $HOSTDIR/run --showstates
# updown.sh took the pushed address away again
ip -4 addr show dev lo | grep -o 'inet [0-9./]*'
ip xfrm state
python -m labs.verify xfrm
python -m whack --rundir $HOSTDIR/run --shutdown
