python -m whack --rundir $HOSTDIR/run --name west-east --initiate | grep -v ': retransmission; will wait'
# transport-mode SAs and policies between the two outside addresses
python -m labs.verify xfrm
ping -n -q -c 3 -i 0.2 -W 2 198.51.100.23
python -m labs.verify udp-echo 198.51.100.45 198.51.100.23 7 hello-in-transport-mode
python -m whack --rundir $HOSTDIR/run --trafficstatus
# ESP without an inner IP header, decrypted by scapy with the keys read back from this kernel
python -m labs.verify esp $CAPTURES/east-west.pcap
# IKE itself stays in the clear (a per-socket bypass), not inside the transport-mode SA
python $SCENARIO/../ikev1-aggressive/isakmp_dump.py $CAPTURES/east-west.pcap
