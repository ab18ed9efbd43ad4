python -m whack --rundir $HOSTDIR/run --showstates
python -m labs.verify xfrm
ping -n -q -c 4 -i 0.2 -W 2 -I 198.18.1.254 198.18.2.254
python -m labs.verify udp-echo 198.18.1.254 198.18.2.254 7 hello-again-v1
python -m whack --rundir $HOSTDIR/run --trafficstatus
python -m labs.verify esp --known-only $CAPTURES/east-west.pcap
