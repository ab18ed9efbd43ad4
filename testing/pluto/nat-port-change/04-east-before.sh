# nic's first mapping: a port from 20000-20999 (OLDPORT)
python -m whack --rundir $HOSTDIR/run --showstates | grep IKE_SA | python -m labs.nat mark 20000-20999=OLDPORT
python -m labs.nat encap 20000-20999=OLDPORT
