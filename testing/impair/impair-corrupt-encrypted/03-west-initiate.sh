# the IKE_AUTH request leaves with a bit of its ciphertext flipped
python -m whack --rundir $HOSTDIR/run --name west-east --initiate --asynchronous
