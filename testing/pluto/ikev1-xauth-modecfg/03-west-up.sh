# XAUTH credentials from whack, as libreswan's tests give them; retransmits (timing) left out
python -m whack --rundir $HOSTDIR/run --name west-modecfg --initiate --xauthuser alice --xauthpass "alice's lab password" | grep -v ': retransmission; will wait'
# the pushed address is on lo (put there by updown.sh) and is west's side of the SAs
ip -4 addr show dev lo | grep -o 'inet [0-9./]*'
python -m labs.verify xfrm
ping -n -q -c 3 -i 0.2 -W 2 -I 192.0.2.100 198.18.2.254
python -m labs.verify udp-echo 192.0.2.100 198.18.2.254 7 hello-from-the-pushed-address
python -m whack --rundir $HOSTDIR/run --trafficstatus
python -m labs.verify esp $CAPTURES/east-west.pcap
# scapy's view of the IKEv1 messages: Main Mode, then XAUTH and Mode Config in Transaction
# exchanges (request/reply/ack for XAUTH, set/ack for the address), then Quick Mode
python $SCENARIO/../ikev1-aggressive/isakmp_dump.py $CAPTURES/east-west.pcap
