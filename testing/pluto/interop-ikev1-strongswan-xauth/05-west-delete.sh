# our pluto, the initiator and XAUTH client, deletes
python -m whack --rundir $HOSTDIR/run --name westnet-eastnet --terminate
sleep 0.5
python -m whack --rundir $HOSTDIR/run --showstates
python -m labs.verify xfrm
# scapy's view: Main Mode, XAUTH in Transaction exchanges, Quick Mode, the deletes
python $SCENARIO/../ikev1-aggressive/isakmp_dump.py $CAPTURES/east-west.pcap
