"""The only I/O of pluto: the asyncio loop around the sans-I/O core.

options.py (the command line), lockfile.py (pluto.pid), interfaces.py (which addresses),
udp.py (IKE and NAT-T sockets, the core's Transport), whack_server.py (the control socket),
logsink.py (stderr, log file, syslog) and daemon.py (start-up, events, timers, signals).
"""
