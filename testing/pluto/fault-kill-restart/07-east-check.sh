# the restarted east holds the Child SA west negotiated after its liveness timeout
python -m labs.verify xfrm | sed -E 's/packets=[0-9]+ bytes=[0-9]+/COUNTERS/'
python -m whack --rundir $HOSTDIR/run --trafficstatus | sed -E 's/(in|out)Bytes=[0-9]+/\1Bytes=N/g'
