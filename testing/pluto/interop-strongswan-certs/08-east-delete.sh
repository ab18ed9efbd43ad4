python -m labs.peers strongswan terminate west-east
sleep 0.5
