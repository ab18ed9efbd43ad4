# east goes silent: from now on it drops every IKE message it receives
python -m whack --rundir $HOSTDIR/run --impair block-inbound:1
