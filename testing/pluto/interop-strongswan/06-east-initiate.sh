# the delete from west was seen: strongSwan has no IKE SA left
python -m labs.peers strongswan status
python -m labs.peers strongswan initiate west-east
python -m labs.peers strongswan status
