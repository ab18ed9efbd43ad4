#!/bin/sh
# init (PID 1) of a User-Mode-Linux guest booted by labs/uml.py with the host's root as hostfs.
# The kernel command line hands in PLUTO_UML_DIR (a host directory for the command and its
# results) and PLUTO_UML_MODULES (comma separated). Everything the guest must not share with
# the host (/run, /proc, /sys, /dev) gets a fresh mount inside the guest first.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /run          # else `ip netns add` would write into the host's /run
mount -t devtmpfs devtmpfs /dev 2>/dev/null || true
# The host has no /lib/modules to mount over (and creating one would change the host), so
# modprobe reads the UML modules through PLUTO_UML_DIR/modroot/lib/modules/<release>, a
# symlink labs/uml.py made on the host.
log="$PLUTO_UML_DIR/init.log"
echo "guest $(uname -r) up" > "$log"
# The kernel loads crypto templates on demand ("crypto-cbc(aes)"): through the same tree.
printf '#!/bin/sh\nexec /sbin/modprobe -d "%s/modroot" "$@"\n' "$PLUTO_UML_DIR" \
    > "$PLUTO_UML_DIR/modprobe"
chmod +x "$PLUTO_UML_DIR/modprobe"
echo "$PLUTO_UML_DIR/modprobe" > /proc/sys/kernel/modprobe
for module in $(echo "$PLUTO_UML_MODULES" | tr ',' ' '); do
    modprobe -d "$PLUTO_UML_DIR/modroot" "$module" >> "$log" 2>&1 \
        || echo "modprobe $module failed" >> "$log"
done
ip link set lo up
export HOME=/root PYTHONDONTWRITEBYTECODE=1
cd "$PLUTO_UML_WORKDIR" 2>/dev/null || cd /
sh "$PLUTO_UML_DIR/command.sh" > "$PLUTO_UML_DIR/output" 2>&1
echo $? > "$PLUTO_UML_DIR/rc"
sync
echo o > /proc/sysrq-trigger
sleep 10
