python -m labs.peers strongswan stop
