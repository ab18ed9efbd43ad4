# returns at once: the exchange goes on while east blocks, then drips
python -m whack --rundir $HOSTDIR/run --name west-east --initiate --asynchronous
