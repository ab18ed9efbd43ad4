python -m labs.peers libreswan whack --showstates
python -m labs.peers libreswan whack --impair omit-v2-ike-auth-child
python -m labs.peers libreswan whack --name west-east --initiate
python -m labs.peers libreswan whack --showstates
