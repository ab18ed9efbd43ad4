# round 2: strongSwan initiates, Main Mode, then Quick Mode with PFS
python -m labs.verify udp-echo-server 198.18.2.254 7 1 --timeout 90 >/dev/null 2>&1 &
python -m labs.peers strongswan initiate --child westnet-eastnet
python -m labs.peers strongswan status
