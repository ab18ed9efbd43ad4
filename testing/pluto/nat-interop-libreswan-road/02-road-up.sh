python -m labs.peers libreswan start $SCENARIO/road.ipsec.conf $SCENARIO/secrets
# a deletion stays a deletion: no revival
python -m labs.peers libreswan whack --impair revival
# libreswan, behind nic's NAT, initiates; its retransmissions (how many varies in UML) left out
python -m labs.peers libreswan whack --name road --initiate | grep -v ': retransmission; will wait'
python -m labs.verify xfrm
ping -n -q -c 4 -i 0.2 -W 2 -I 203.0.113.209 198.18.2.254
python -m labs.peers libreswan whack --trafficstatus
# before the NAT: ESP in UDP between 4500 and 4500
python -m labs.nat encap
