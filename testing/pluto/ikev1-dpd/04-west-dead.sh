# within dpdtimeout (6 s) of the first unanswered probe west declares east dead, clears the
# SAs and (dpdaction=restart) starts a new Main Mode, #3, which east does not answer yet
timeout 20 sh -c "until grep -q '#3: initiating' $HOSTDIR/pluto.log; do sleep 0.2; done"
grep -E 'declaring peer dead|reviving|#3: initiating' $HOSTDIR/pluto.log
python -m labs.verify xfrm
python -m whack --rundir $HOSTDIR/run --showstates | sed -E 's/STATE_MAIN_I1 \(.*/STATE_MAIN_I1 .../'
