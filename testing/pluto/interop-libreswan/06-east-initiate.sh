# the delete from west was seen: libreswan has no state left
python -m labs.peers libreswan whack --showstates
python -m labs.peers libreswan whack --impair omit-v2-ike-auth-child
python -m labs.peers libreswan whack --name west-east --initiate
python -m labs.peers libreswan whack --showstates
