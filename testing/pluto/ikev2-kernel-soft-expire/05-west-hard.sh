python -m whack --rundir $HOSTDIR/run --impair ignore-soft-expire
# a fresh Child SA whose counters start at 0 (no traffic is flowing now)
python -m whack --rundir $HOSTDIR/run --name westnet-eastnet --rekey-child
sleep 1
ip xfrm state | grep -o 'spi 0x[0-9a-f]*' | sort >$HOSTDIR/spis-third.txt
wc -l <$HOSTDIR/pluto.log >$HOSTDIR/log-mark.txt
# 40 pings fill the hard limit of both SAs; the kernel drops the 41st and sends a hard EXPIRE
ping -n -q -c 41 -i 0.05 -W 1 -I 198.18.1.254 198.18.2.254 | grep 'packets transmitted'
sleep 3
# what pluto logged since the fresh Child SA came up
tail -n +$(($(cat $HOSTDIR/log-mark.txt) + 1)) $HOSTDIR/pluto.log | grep -E 'IMPAIR|EXPIRE|deleting|Child SA using|rekeyed Child SA' | grep -v '^|' | sed -E 's/(EXPIRE )?of esp\.[0-9a-fSPI]+@[0-9.]+/\1of esp.SPISPI@ADDRESS/'
python -m whack --rundir $HOSTDIR/run --showstates | sed -E 's/ESP(in|out)=[0-9]+B/ESP\1=COUNT/g'
ip xfrm state | grep -o 'spi 0x[0-9a-f]*' | sort >$HOSTDIR/spis-fourth.txt
echo "SPIs kept from the expired Child SA: $(comm -12 $HOSTDIR/spis-third.txt $HOSTDIR/spis-fourth.txt | wc -l) of $(wc -l <$HOSTDIR/spis-fourth.txt)"
# traffic flows over the replacement Child SA
ping -n -q -c 4 -i 0.2 -W 2 -I 198.18.1.254 198.18.2.254 | grep 'packets transmitted'
