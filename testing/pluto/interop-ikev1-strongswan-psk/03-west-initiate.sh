# round 1: our pluto initiates Main Mode, then Quick Mode with PFS
python -m whack --rundir $HOSTDIR/run --name westnet-eastnet --initiate | grep -v ': retransmission; will wait'
python -m labs.verify xfrm
ping -n -q -c 4 -i 0.2 -W 2 -I 198.18.1.254 198.18.2.254
python -m labs.verify udp-echo 198.18.1.254 198.18.2.254 7 hello-strongswan-v1
python -m whack --rundir $HOSTDIR/run --trafficstatus
# the ESP on the east-west LAN, decrypted by scapy with the keys read back from this kernel
python -m labs.verify esp $CAPTURES/east-west.pcap
