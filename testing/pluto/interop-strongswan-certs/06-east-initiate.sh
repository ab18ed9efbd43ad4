python -m labs.peers strongswan status
python -m labs.peers strongswan initiate west-east
python -m labs.peers strongswan status
