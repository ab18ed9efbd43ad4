# our pluto initiates; the XAUTH credentials come from whack, as in libreswan's tests
python -m whack --rundir $HOSTDIR/run --name westnet-eastnet --initiate --xauthuser alice --xauthpass "alice's lab password" | grep -v ': retransmission; will wait'
python -m labs.verify xfrm
ping -n -q -c 4 -i 0.2 -W 2 -I 198.18.1.254 198.18.2.254
python -m labs.verify udp-echo 198.18.1.254 198.18.2.254 7 hello-xauth
python -m whack --rundir $HOSTDIR/run --trafficstatus
python -m labs.verify esp $CAPTURES/east-west.pcap
grep -E 'XAUTH' $HOSTDIR/pluto.log
