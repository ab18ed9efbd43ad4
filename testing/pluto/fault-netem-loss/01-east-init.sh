install -m 600 $SCENARIO/secrets $HOSTDIR/ipsec.secrets
mkdir -p $HOSTDIR/run
python -m pluto --config $SCENARIO/east.conf --stderrlog --rundir $HOSTDIR/run \
      --listen 198.51.100.23 --secretsfile $HOSTDIR/ipsec.secrets --impair revival 2>$HOSTDIR/pluto.log
# everything east sends on the LAN: 20 ms late, a quarter of it sent at once instead (so it
# overtakes), a fifth lost, a tenth sent twice
tc qdisc add dev eth1 root netem delay 20ms reorder 25% 50% loss 20% duplicate 10%
tc qdisc show dev eth1 | sed -E "s/netem [0-9a-f]+:/netem N:/"
