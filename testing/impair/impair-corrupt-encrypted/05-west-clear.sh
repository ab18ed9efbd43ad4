python -m whack --rundir $HOSTDIR/run --no-impair corrupt-encrypted
python -m whack --rundir $HOSTDIR/run --impair list
# the second retransmission (1.5 s after the request) certainly follows the --no-impair
timeout 10 sh -c 'until grep -qs "will wait 2 seconds" $HOSTDIR/pluto.log; do sleep 0.02; done'
grep -e IMPAIR -e west-east $HOSTDIR/pluto.log
