# strongSwan, the initiator, deletes the IKE SA
python -m labs.peers strongswan terminate road
sleep 0.5
python -m labs.peers strongswan status
python -m labs.verify xfrm
python -m labs.peers strongswan stop
