#!/bin/sh
# Install the interop peers of the labs (DESIGN.md §10, ../shared/lab-notes.md), as root on
# Debian 12. Idempotent: when everything is in place it only checks and returns.
#
#   strongSwan 5.9.8  from Debian with apt (charon-systemd, swanctl and the plugin packages);
#   libreswan 4.10    never with apt (its package conflicts with strongSwan's): the .deb is
#                     downloaded and unpacked into $LIBRESWAN_PREFIX, its libraries come from apt.
#
# Neither daemon is started here, nor left enabled as a system service: the labs start them
# inside their own namespaces.
set -eu

LIBRESWAN_PREFIX=${LIBRESWAN_PREFIX:-/opt/libreswan}
CACHE=${PEERS_CACHE:-/var/cache/pluto-labs}
STRONGSWAN_PACKAGES="charon-systemd strongswan-swanctl libstrongswan-standard-plugins libstrongswan-extra-plugins libcharon-extra-plugins"
# libreswan's run-time dependencies (its Depends line, minus what Debian always has).
LIBRESWAN_DEPENDS="libnss3 libnss3-tools libnspr4 libunbound8 libldns3 libevent-core-2.1-7 libevent-pthreads-2.1-7 libcurl3-nss libcap-ng0 libaudit1 libldap-2.5-0 libpam0g libselinux1 libsystemd0 dns-root-data"

say() { echo "install_peers: $*"; }

missing_packages() {
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || echo "$pkg"
    done
}

apt_install() {
    # Services of freshly installed packages must not start on the host: a temporary
    # policy-rc.d refuses them (unless the machine already has one, as containers do).
    made_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_policy=yes
    fi
    status=0
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" || status=$?
    [ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d
    return "$status"
}

updated=""
apt_update_once() {
    [ -n "$updated" ] || apt-get update -q
    updated=yes
}

# --- strongSwan ---------------------------------------------------------------------------
need=$(missing_packages $STRONGSWAN_PACKAGES $LIBRESWAN_DEPENDS)
if [ -n "$need" ]; then
    if dpkg-query -W -f='${Status}' libreswan 2>/dev/null | grep -q "ok installed"; then
        say "Debian's libreswan package is installed; it conflicts with strongSwan: remove it" >&2
        exit 1
    fi
    say "installing with apt:" $need
    apt_update_once
    # shellcheck disable=SC2086
    apt_install $need
fi
# charon-systemd ships a system service; the labs start charon themselves, per namespace.
if [ -d /run/systemd/system ] && systemctl is-enabled --quiet strongswan.service 2>/dev/null; then
    say "disabling the host's strongswan.service (the labs run charon in namespaces)"
    systemctl disable --now strongswan.service
fi

# --- libreswan, unpacked --------------------------------------------------------------------
if [ ! -x "$LIBRESWAN_PREFIX/usr/libexec/ipsec/pluto" ]; then
    mkdir -p "$CACHE"
    deb=$(ls "$CACHE"/libreswan_4.10-*.deb 2>/dev/null | head -n 1 || true)
    if [ -z "$deb" ]; then
        apt_update_once
        say "downloading libreswan (apt-get download, not installed with apt)"
        (cd "$CACHE" && apt-get download -q -o APT::Sandbox::User=root libreswan=4.10-*)
        deb=$(ls "$CACHE"/libreswan_4.10-*.deb | head -n 1)
    fi
    say "unpacking $(basename "$deb") into $LIBRESWAN_PREFIX"
    mkdir -p "$LIBRESWAN_PREFIX"
    dpkg-deb -x "$deb" "$LIBRESWAN_PREFIX"
fi
# libreswan's pluto runs /usr/libexec/ipsec/addconn by its absolute path. Link our prefix
# there only when nothing is there yet: an existing directory belongs to someone else.
if [ ! -e /usr/libexec/ipsec ] && [ ! -L /usr/libexec/ipsec ]; then
    say "linking /usr/libexec/ipsec -> $LIBRESWAN_PREFIX/usr/libexec/ipsec"
    mkdir -p /usr/libexec
    ln -s "$LIBRESWAN_PREFIX/usr/libexec/ipsec" /usr/libexec/ipsec
elif [ "$(readlink /usr/libexec/ipsec 2>/dev/null || true)" != "$LIBRESWAN_PREFIX/usr/libexec/ipsec" ]; then
    say "note: /usr/libexec/ipsec exists and is not ours; left as it is"
fi

# --- check ----------------------------------------------------------------------------------
"$LIBRESWAN_PREFIX/usr/libexec/ipsec/pluto" --version >/dev/null 2>&1 || {
    say "libreswan's pluto does not run:" >&2
    "$LIBRESWAN_PREFIX/usr/libexec/ipsec/pluto" --version >&2 || true
    exit 1
}
command -v charon-systemd >/dev/null && command -v swanctl >/dev/null || {
    say "strongSwan's charon-systemd or swanctl is missing" >&2
    exit 1
}
