python -m labs.peers strongswan start $SCENARIO/road.swanctl.conf
# strongSwan, behind nic's NAT, initiates the IKE SA with its Child SA
python -m labs.peers strongswan initiate --child road
python -m labs.verify xfrm
ping -n -q -c 4 -i 0.2 -W 2 -I 203.0.113.209 198.18.2.254
# its Child SA counted the pings
python -m labs.peers strongswan status
# before the NAT: ESP in UDP between 4500 and 4500
python -m labs.nat encap
