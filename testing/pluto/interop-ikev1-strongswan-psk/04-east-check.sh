python -m labs.peers strongswan status
# the same ESP, decrypted with the keys strongSwan installed in its kernel
python -m labs.verify xfrm
python -m labs.verify esp $CAPTURES/east-west.pcap
# round 1 ends with a delete from strongSwan, the responder
python -m labs.peers strongswan terminate westnet-eastnet
sleep 0.5
python -m labs.peers strongswan status
ip xfrm state
# its SAs and policies (the per-socket IKE bypass policies are left out)
python -m labs.verify xfrm
