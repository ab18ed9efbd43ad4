python -m labs.peers strongswan start $SCENARIO/east.swanctl.conf
