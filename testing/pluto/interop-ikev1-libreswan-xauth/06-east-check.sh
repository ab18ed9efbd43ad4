python -m labs.peers libreswan whack --showstates
ip xfrm state
python -m labs.verify xfrm
python -m labs.peers libreswan whack --name westnet-eastnet --unroute
python -m labs.verify xfrm
python -m labs.peers libreswan stop
