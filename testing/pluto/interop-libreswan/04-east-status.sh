python -m labs.peers libreswan whack --showstates
