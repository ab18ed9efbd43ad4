python -m whack --rundir $HOSTDIR/run --showstates
grep -E 'received Delete' $HOSTDIR/pluto.log | tail -n 2
ip xfrm state
python -m labs.verify xfrm
# scapy's view of both rounds' IKEv1 messages (retransmissions listed once)
python $SCENARIO/../ikev1-aggressive/isakmp_dump.py $CAPTURES/east-west.pcap
python -m whack --rundir $HOSTDIR/run --shutdown
