# round 2 ends with a delete from libreswan, the initiator
python -m labs.peers libreswan whack --name westnet-eastnet --terminate
sleep 0.5
python -m labs.peers libreswan whack --showstates
python -m labs.peers libreswan whack --name westnet-eastnet --unroute
python -m labs.verify xfrm
python -m labs.peers libreswan stop
