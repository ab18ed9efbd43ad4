sleep 0.5
python -m whack --rundir $HOSTDIR/run --showstates
grep -i 'delete' $HOSTDIR/pluto.log
ip xfrm state
ip xfrm policy
# second round: west brings the connection up again and this time west deletes it
python -m whack --rundir $HOSTDIR/run --name westnet-eastnet --initiate | grep -v ': retransmission; will wait'
ping -n -q -c 2 -i 0.2 -W 2 -I 198.18.1.254 198.18.2.254
python -m whack --rundir $HOSTDIR/run --name westnet-eastnet --terminate
sleep 0.5
python -m whack --rundir $HOSTDIR/run --showstates
ip xfrm state
python -m labs.verify xfrm
python -m whack --rundir $HOSTDIR/run --shutdown
