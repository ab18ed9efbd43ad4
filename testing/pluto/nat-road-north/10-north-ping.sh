sleep 0.5
# north's tunnel is untouched by road leaving
ping -n -q -c 2 -i 0.2 -W 2 -I 198.18.3.254 198.18.2.254
python -m whack --rundir $HOSTDIR/run --trafficstatus
