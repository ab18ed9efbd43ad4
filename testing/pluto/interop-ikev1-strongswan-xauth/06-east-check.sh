python -m labs.peers strongswan status
ip xfrm state
python -m labs.verify xfrm
python -m labs.peers strongswan stop
