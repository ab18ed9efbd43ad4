python -m labs.peers strongswan status
