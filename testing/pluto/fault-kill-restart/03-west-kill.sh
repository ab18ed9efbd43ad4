# west's pluto dies without a word: no Delete to east, nothing removed from the kernel
kill -9 $(cat $HOSTDIR/run/pluto.pid)
sleep 0.2
# the orphaned SAs still carry traffic, with keys nobody will rekey or delete
ip xfrm state | grep -c '^src'
ip xfrm policy | grep -c 'reqid 16384'
ping -n -q -c 2 -i 0.2 -W 2 -I 198.18.1.254 198.18.2.254
