# how many retransmits and duplicates each exchange meets varies: only the outcome is shown
python -m whack --rundir $HOSTDIR/run --name westnet-eastnet --initiate | grep -E 'established|failed'
python -m whack --rundir $HOSTDIR/run --name westnet-eastnet --rekey-child | grep -E 'rekeyed|failed'
python -m whack --rundir $HOSTDIR/run --name westnet-eastnet --rekey-ike | grep -E 'rekeyed|failed'
# the old IKE SA may still be retransmitting its Delete (when east's answer was lost, east has
# already forgotten it and stays silent until west gives up): that line is left out
python -m whack --rundir $HOSTDIR/run --showstates | grep -v STATE_V2_ZOMBIE | sed -E 's/ESP(in|out)=[0-9]+K?B/ESP\1=N/g'
# traffic over the lossy link (some of it is lost: not shown), so netem has work to do
ping -n -q -c 30 -i 0.05 -W 1 -I 198.18.1.254 198.18.2.254 >/dev/null 2>&1 || true
tc -s qdisc show dev eth1 | grep -q 'dropped [1-9]' && echo 'netem on west dropped packets'
tc qdisc del dev eth1 root
