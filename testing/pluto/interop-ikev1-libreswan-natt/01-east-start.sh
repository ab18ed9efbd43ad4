python -m labs.peers libreswan start $SCENARIO/east.ipsec.conf $SCENARIO/east.secrets
python -m labs.peers libreswan whack --impair revival
