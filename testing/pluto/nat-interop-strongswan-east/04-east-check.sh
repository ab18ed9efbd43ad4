# nic rewrote road's ports into 20000-20999, shown as NICPORT (swanctl prints ADDR[PORT])
python -m labs.peers strongswan status | sed -E 's/\[20[0-9]{3}\]/[NICPORT]/'
python -m labs.verify xfrm
python -m labs.nat encap
# after the NAT: ESP in UDP from nic's address, with its ports as captured, decrypted
# by scapy with strongSwan's keys
python -m labs.verify esp --show-encap $CAPTURES/east-west.pcap | python -m labs.nat mark
# strongSwan, the responder, deletes the IKE SA: the request goes back through the NAT
python -m labs.peers strongswan terminate road
sleep 0.5
python -m labs.peers strongswan status
python -m labs.verify xfrm
