# our host key, made by our hostkey tool (2048 bits); the public key in the 0s form of
# leftrsasigkey= goes to $WORKDIR/west.pubkey
mkdir -p $HOSTDIR/run
python -m pluto.crypto.hostkey new --bits 2048 --output $HOSTDIR/ipsec.secrets >/dev/null
chmod 600 $HOSTDIR/ipsec.secrets
python -m pluto.crypto.hostkey show --secrets $HOSTDIR/ipsec.secrets --left | sed -nE 's/^\s*leftrsasigkey=//p' >$WORKDIR/west.pubkey
grep -c '^0sAwEAA' $WORKDIR/west.pubkey
