# libreswan's host key, made in its own NSS database by its newhostkey (3072 bits, its
# minimum is 2192); its public key, as rightrsasigkey=, goes to $WORKDIR/east.pubkey
set -e
export PATH=/opt/libreswan/usr/sbin:/opt/libreswan/usr/libexec/ipsec:$PATH
nss=$HOSTDIR/libreswan/nss
mkdir -p $nss
ipsec initnss --nssdir $nss >/dev/null
ipsec newhostkey --nssdir $nss --bits 3072 >/dev/null 2>&1
ckaid=$(ipsec showhostkey --nssdir $nss --list | sed -nE 's/.*ckaid: ([0-9a-f]+).*/\1/p' | head -n 1)
ipsec showhostkey --nssdir $nss --right --ckaid $ckaid | sed -nE 's/^\s*rightrsasigkey=//p' >$WORKDIR/east.pubkey
