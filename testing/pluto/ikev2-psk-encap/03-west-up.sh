# inside UML east's first IKE_AUTH answer can take a few seconds: west's retransmits, if
# any, are left out of the transcript
python -m whack --rundir $HOSTDIR/run --name westnet-eastnet --initiate | grep -v ': retransmission; will wait'
python -m labs.verify xfrm
ping -n -q -c 4 -i 0.2 -W 2 -I 198.18.1.254 198.18.2.254
python -m labs.verify udp-echo 198.18.1.254 198.18.2.254 7 hello-in-udp
python -m whack --rundir $HOSTDIR/run --trafficstatus
# ESP in UDP on port 4500, decrypted by scapy with the keys read back from this kernel
python -m labs.verify esp $CAPTURES/east-west.pcap
