"""ipsec.conf and ipsec.secrets parsers. Arrives with issue 4."""
