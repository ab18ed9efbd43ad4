python -m labs.peers strongswan status
ip xfrm state
# its SAs and policies (the per-socket IKE bypass policies are left out)
python -m labs.verify xfrm
python -m labs.peers strongswan stop
