python -m labs.peers libreswan start $SCENARIO/east.ipsec.conf $SCENARIO/secrets
# a deletion stays a deletion: no revival
python -m labs.peers libreswan whack --impair revival
