python -m labs.peers libreswan whack --showstates
python -m labs.peers libreswan stop
