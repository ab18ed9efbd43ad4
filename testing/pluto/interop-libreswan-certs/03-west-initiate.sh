# childless: only the IKE SA, no kernel SA needed on either side
python -m whack --rundir $HOSTDIR/run --impair omit-v2-ike-auth-child
python -m whack --rundir $HOSTDIR/run --name west-east --initiate
python -m whack --rundir $HOSTDIR/run --showstates
