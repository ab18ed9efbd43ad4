"""Interop peers for the labs: strongSwan and libreswan, each run inside a lab namespace.

- ``daemon``: start a daemon in the background with its own log and PID file, stop it by PID;
- ``strongswan``: charon-systemd with a per-instance strongswan.conf, driven by swanctl;
- ``libreswan``: libreswan's pluto from its unpacked prefix, driven by its whack;
- ``python -m labs.peers``: the same for scenario scripts (see ``__main__``).

Everything an instance writes (configuration, sockets, NSS database, logs, PID file) lives in
its own directory, never in the /run that every namespace shares. The same holds inside a
User-Mode-Linux guest (kernel = "esp" scenarios), where both peers run unchanged: the guest's
init gives it its own /dev, /run and the ESP modules, libreswan's updown finds ``ipsec`` on the
PATH set here, and its dump directory is the instance directory (the guest has no
/run/pluto). ``labs/install_peers.sh`` installs both peers.
"""
