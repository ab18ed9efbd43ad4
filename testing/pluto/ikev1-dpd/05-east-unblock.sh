# east's own probes went unanswered too (their ACKs were blocked): it declares west dead as
# well, and clears without reviving (--impair revival)
timeout 20 sh -c "until grep -q 'declaring peer dead' $HOSTDIR/pluto.log; do sleep 0.2; done"
grep -E 'declaring peer dead|revival' $HOSTDIR/pluto.log
python -m labs.verify xfrm
python -m whack --rundir $HOSTDIR/run --no-impair block-inbound
grep -c 'IMPAIR: block inbound' $HOSTDIR/pluto.log | sed -E 's/^[1-9][0-9]*$/some/'
