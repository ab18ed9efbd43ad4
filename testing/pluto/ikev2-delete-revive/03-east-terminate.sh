python -m whack --rundir $HOSTDIR/run --showstates
# east takes its side down; the connection stays defined, so west's revival is accepted
python -m whack --rundir $HOSTDIR/run --name west-east --terminate
