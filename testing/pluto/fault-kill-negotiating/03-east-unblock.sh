python -m whack --rundir $HOSTDIR/run --no-impair block-inbound
