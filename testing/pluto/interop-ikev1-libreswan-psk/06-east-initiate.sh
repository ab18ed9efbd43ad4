# round 2: libreswan initiates Main Mode and Quick Mode
python -m labs.verify udp-echo-server 198.18.2.254 7 1 --timeout 90 >/dev/null 2>&1 &
python -m labs.peers libreswan whack --name westnet-eastnet --initiate | grep -v ': retransmission; will wait'
python -m labs.peers libreswan whack --showstates
