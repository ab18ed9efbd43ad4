# inside UML east's first IKE_AUTH answer can take a few seconds: retransmits are left out
python -m whack --rundir $HOSTDIR/run --name westnet-eastnet --initiate | grep -v ': retransmission; will wait'
# the kernel got the limits: hard 40 packets, soft 25% less up to 12% fuzz (9 or 10)
ip -s xfrm state | sed -nE 's/.*limit: soft ([0-9]+)\(packets\), hard ([0-9]+)\(packets\)/\1 \2/p' | while read soft hard; do if [ $soft -ge 9 ] && [ $soft -le 10 ]; then echo "packets: soft 9..10, hard $hard"; else echo "packets: soft $soft?, hard $hard"; fi; done
ip xfrm state | grep -o 'spi 0x[0-9a-f]*' | sort >$HOSTDIR/spis-first.txt
# about 10 pings in, the kernel sends a soft EXPIRE and west rekeys; none may be lost
ping -n -q -c 16 -i 0.2 -W 2 -I 198.18.1.254 198.18.2.254 | grep 'packets transmitted'
sleep 2
grep -E 'EXPIRE|rekeyed Child SA' $HOSTDIR/pluto.log | sed -E 's/EXPIRE of esp\.SPISPI@[0-9.]+/EXPIRE of esp.SPISPI@ADDRESS/; s/EXPIRE of esp\.[0-9a-f]+@[0-9.]+/EXPIRE of esp.SPISPI@ADDRESS/'
python -m whack --rundir $HOSTDIR/run --showstates | sed -E 's/ESP(in|out)=[0-9]+B/ESP\1=COUNT/g'
ip xfrm state | grep -o 'spi 0x[0-9a-f]*' | sort >$HOSTDIR/spis-second.txt
echo "SPIs kept from the first Child SA: $(comm -12 $HOSTDIR/spis-first.txt $HOSTDIR/spis-second.txt | wc -l) of $(wc -l <$HOSTDIR/spis-second.txt)"
