# the link is clean again: the rekeyed tunnel carries every ping
ping -n -q -c 4 -i 0.2 -W 2 -I 198.18.1.254 198.18.2.254
python -m labs.verify xfrm | sed -E 's/packets=[0-9]+ bytes=[0-9]+/COUNTERS/'
python -m whack --rundir $HOSTDIR/run --shutdown
