python -m labs.peers libreswan whack --name west-east --terminate
sleep 0.5
