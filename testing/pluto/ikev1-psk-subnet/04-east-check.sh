python -m labs.verify xfrm
python -m whack --rundir $HOSTDIR/run --trafficstatus
python -m labs.verify esp $CAPTURES/east-west.pcap
# a fresh echo server for the echo west sends after the rekeys
python -m labs.verify udp-echo-server 198.18.2.254 7 1 --timeout 90 >/dev/null 2>&1 &
