# wait (up to 20 s) until the peer's Delete has been processed: no state left here
timeout 20 sh -c "while python -m whack --rundir $HOSTDIR/run --showstates | grep -q .; do sleep 0.2; done"
python -m whack --rundir $HOSTDIR/run --showstates
# the IPsec SA's SPI in "Delete SA(0x...)" changes every run
grep 'received Delete' $HOSTDIR/pluto.log | sed -E 's/SA\(0x[0-9a-f]+\)/SA(0xSPISPI)/'
ip xfrm state
python -m labs.verify xfrm
# second round: west brings the connection up again and this time west deletes it
python -m whack --rundir $HOSTDIR/run --name westnet-eastnet --initiate | grep -v ': retransmission; will wait'
ping -n -q -c 2 -i 0.2 -W 2 -I 198.18.1.254 198.18.2.254
python -m whack --rundir $HOSTDIR/run --name westnet-eastnet --terminate
sleep 0.5
python -m whack --rundir $HOSTDIR/run --showstates
ip xfrm state
python -m labs.verify xfrm
python -m whack --rundir $HOSTDIR/run --shutdown
