# once the first IKE_SA_INIT request and its first retransmission (0.5 s later) are blocked,
# lift the block and hold the next message (#3, the retransmission at 1.5 s) back until the
# one after it (#4, at 3.5 s) has been processed: one whack request, so nothing slips between
timeout 10 sh -c 'until grep -qs "block inbound message #2" $HOSTDIR/pluto.log; do sleep 0.02; done'
python -m whack --rundir $HOSTDIR/run --impair no-block-inbound,drip-inbound:3
python -m whack --rundir $HOSTDIR/run --impair list
