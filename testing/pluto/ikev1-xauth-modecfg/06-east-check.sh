# wait (up to 20 s) until the peer's Delete has been processed: no state left here
timeout 20 sh -c "while python -m whack --rundir $HOSTDIR/run --showstates | grep -q .; do sleep 0.2; done"
python -m whack --rundir $HOSTDIR/run --showstates
grep 'received Delete' $HOSTDIR/pluto.log | sed -E 's/SA\(0x[0-9a-f]+\)/SA(0xSPISPI)/'
ip xfrm state
# the route to west's pushed address went with the SA
ip route show 192.0.2.100
python -m labs.verify xfrm
python -m whack --rundir $HOSTDIR/run --shutdown
