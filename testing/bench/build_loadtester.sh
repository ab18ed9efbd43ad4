#!/bin/sh
# Build strongSwan 5.9.8's charon with the load-tester plugin from Debian's source package,
# once, into a cache directory. Debian does not ship load-tester, and 5.9.8's load-tester
# always proposes a Child SA; the patch in childless.patch adds a `childless` option.
#
# Usage: build_loadtester.sh [CACHE_DIR]     (default /var/cache/pypluto-bench)
# Result: CACHE_DIR/prefix/libexec/ipsec/charon with the plugins below; CACHE_DIR/BUILT marks
# a finished build (delete it to rebuild).
set -eu

CACHE=${1:-/var/cache/pypluto-bench}
HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX="$CACHE/prefix"
SRC="$CACHE/src"
LIST=/etc/apt/sources.list.d/pypluto-bench-src.sources

if [ -f "$CACHE/BUILT" ]; then
    echo "load-tester already built in $PREFIX"
    exit 0
fi
[ "$(id -u)" = 0 ] || { echo "build_loadtester.sh: needs root (apt-get)" >&2; exit 1; }
mkdir -p "$CACHE" "$SRC"

# Debian's sources for bookworm, in a file named for this project.
if [ ! -f "$LIST" ]; then
    cat > "$LIST" <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    apt-get update -qq
fi

# The minimal build dependencies for the plugins we enable (not all of build-dep strongswan).
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    build-essential dpkg-dev pkg-config libssl-dev libgmp-dev bison flex gperf >/dev/null

cd "$SRC"
if ! ls -d strongswan-5.9.8 >/dev/null 2>&1; then
    apt-get source -qq strongswan=5.9.8* 2>/dev/null || apt-get source -qq strongswan
fi
DIR=$(ls -d "$SRC"/strongswan-5.9.8* | head -1)
cd "$DIR"

if [ ! -f .pypluto-childless-applied ]; then
    patch -p1 < "$HERE/childless.patch"
    touch .pypluto-childless-applied
fi

nice -n 10 ./configure --prefix="$PREFIX" --sysconfdir="$PREFIX/etc" \
    --disable-defaults --enable-charon --enable-ikev2 --enable-load-tester \
    --enable-openssl --enable-nonce --enable-random --enable-kernel-netlink \
    --enable-socket-default --enable-pem --enable-pkcs1 --enable-pubkey --enable-x509 \
    --enable-constraints --enable-revocation --enable-hmac --enable-kdf --enable-gmp --enable-curve25519 \
    --disable-scripts --disable-systemd \
    > "$CACHE/configure.log" 2>&1
nice -n 10 make -j2 > "$CACHE/make.log" 2>&1
make install > "$CACHE/install.log" 2>&1
touch "$CACHE/BUILT"
echo "load-tester built in $PREFIX"
