ping -n -q -c 3 -i 0.2 -W 2 -I 203.0.113.209 198.18.2.254
python -m whack --rundir $HOSTDIR/run --trafficstatus
