# the IKE_AUTH response is lost: west retransmits its request after 0.5 s
python -m whack --rundir $HOSTDIR/run --name west-east --initiate
python -m whack --rundir $HOSTDIR/run --showstates
