# west's next retransmission gets through: the connection comes back on its own
timeout 30 sh -c "until python -m whack --rundir $HOSTDIR/run --showstates | grep -q STATE_QUICK_I2; do sleep 0.3; done"
python -m whack --rundir $HOSTDIR/run --showstates | grep -o 'STATE_[A-Z0-9_]*'
python -m labs.verify xfrm
ping -n -q -c 2 -i 0.2 -W 2 -I 198.18.1.254 198.18.2.254
python -m whack --rundir $HOSTDIR/run --name westnet-eastnet --terminate
sleep 0.5
python -m whack --rundir $HOSTDIR/run --showstates
python -m labs.verify xfrm
python -m whack --rundir $HOSTDIR/run --shutdown
