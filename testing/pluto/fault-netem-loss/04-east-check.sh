tc -s qdisc show dev eth1 | grep -q 'dropped [1-9]' && echo 'netem on east dropped packets'
tc qdisc del dev eth1 root
# one IKE SA and one Child SA, the rekeyed ones, on each side
python -m whack --rundir $HOSTDIR/run --showstates | sed -E 's/ESP(in|out)=[0-9]+K?B/ESP\1=N/g'
python -m labs.verify xfrm | sed -E 's/packets=[0-9]+ bytes=[0-9]+/COUNTERS/'
