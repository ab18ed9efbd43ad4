install -m 600 $SCENARIO/secrets $HOSTDIR/ipsec.secrets
mkdir -p $HOSTDIR/run
# no --impair revival here: dpdaction=restart is what this scenario is about
python -m pluto --config $SCENARIO/ipsec.conf --stderrlog --rundir $HOSTDIR/run --listen 198.51.100.45 \
      --secretsfile $HOSTDIR/ipsec.secrets 2>$HOSTDIR/pluto.log
python -m whack --rundir $HOSTDIR/run --name westnet-eastnet --initiate | grep -v ': retransmission; will wait'
ping -n -q -c 2 -i 0.2 -W 2 -I 198.18.1.254 198.18.2.254
# west probes every 2 s and east answers: both directions of the (encrypted) Informational
# exchange are on the wire, as scapy's ISAKMP dissector shows
sleep 5
python $SCENARIO/../ikev1-aggressive/isakmp_dump.py $CAPTURES/east-west.pcap | grep Informational | sort -u
