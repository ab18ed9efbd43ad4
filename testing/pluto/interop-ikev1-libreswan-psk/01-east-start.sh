python -m labs.peers libreswan start $SCENARIO/east.ipsec.conf $SCENARIO/east.secrets
# a deletion stays a deletion: no revival
python -m labs.peers libreswan whack --impair revival
# answers west's UDP echo through the tunnel, then exits
python -m labs.verify udp-echo-server 198.18.2.254 7 1 --timeout 90 >/dev/null 2>&1 &
python -m labs.peers libreswan whack --status | grep -E '"westnet-eastnet":.*(routed|eroute)'
