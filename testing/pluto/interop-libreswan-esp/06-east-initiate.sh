# round 2: libreswan initiates, with the Child SA
python -m labs.verify udp-echo-server 198.18.2.254 7 1 --timeout 90 >/dev/null 2>&1 &
# its retransmissions (how many varies inside UML) are left out
python -m labs.peers libreswan whack --name westnet-eastnet --initiate | grep -v ': retransmission; will wait'
python -m labs.peers libreswan whack --showstates
