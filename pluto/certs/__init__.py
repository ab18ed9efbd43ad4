"""Public keys and (later) certificates that pluto holds in memory, replacing NSS."""
