# inside UML east's first IKE_AUTH answer can take a few seconds (see description.txt):
# west's retransmits, if any, are left out of the transcript
python -m whack --rundir $HOSTDIR/run --name west-east --initiate | grep -v ': retransmission; will wait'
python -m labs.verify xfrm
ping -n -q -c 3 -i 0.2 -W 2 198.51.100.23
python -m labs.verify udp-echo 198.51.100.45 198.51.100.23 7 hello-host-to-host
python -m whack --rundir $HOSTDIR/run --trafficstatus
# the ESP on the east-west LAN, decrypted by scapy with the keys read back from this kernel
python -m labs.verify esp $CAPTURES/east-west.pcap
