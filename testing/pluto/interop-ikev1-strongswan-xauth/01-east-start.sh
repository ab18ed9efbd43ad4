python -m labs.peers strongswan start $SCENARIO/east.swanctl.conf
# answers west's UDP echo through the tunnel, then exits
python -m labs.verify udp-echo-server 198.18.2.254 7 1 --timeout 90 >/dev/null 2>&1 &
