install -m 600 $SCENARIO/road.secrets $HOSTDIR/ipsec.secrets
mkdir -p $HOSTDIR/run
python -m pluto --config $SCENARIO/road.ipsec.conf --stderrlog --rundir $HOSTDIR/run \
      --listen 203.0.113.209 --secretsfile $HOSTDIR/ipsec.secrets --impair revival 2>$HOSTDIR/pluto.log
# our pluto, behind nic's NAT, initiates Main Mode and Quick Mode
python -m whack --rundir $HOSTDIR/run --name road --initiate | grep -v ': retransmission; will wait'
python -m labs.verify xfrm
ping -n -q -c 4 -i 0.2 -W 2 -I 203.0.113.209 198.18.2.254
python -m whack --rundir $HOSTDIR/run --trafficstatus
# before the NAT: ESP in UDP between 4500 and 4500
python -m labs.nat encap
