# road's next liveness probe (every 2 s) leaves nic from a new port; east follows it (the
# loop waits for that, silently, for up to 20 s)
for i in $(seq 100); do grep -q 'new NAT mapping' $HOSTDIR/pluto.log && break; sleep 0.2; done
grep -o 'new NAT mapping.*' $HOSTDIR/pluto.log | python -m labs.nat mark 20000-20999=OLDPORT 21000-21999=NEWPORT
