# the Aggressive Mode warning is part of whack's answer; retransmits (timing) are left out
python -m whack --rundir $HOSTDIR/run --name west-east --initiate | grep -v ': retransmission; will wait'
python -m labs.verify xfrm
ping -n -q -c 3 -i 0.2 -W 2 198.51.100.23
python -m labs.verify udp-echo 198.51.100.45 198.51.100.23 7 hello-after-aggressive-mode
python -m whack --rundir $HOSTDIR/run --trafficstatus
python -m labs.verify esp $CAPTURES/east-west.pcap
# scapy's view of the IKEv1 messages: three Aggressive Mode messages, both IDs in clear
python $SCENARIO/isakmp_dump.py $CAPTURES/east-west.pcap
