"""ipsec.conf -> connection descriptions and pluto options (issue 4).

lexer.py (lines -> sections), keywords.py (what is known), ipsec_conf.py (includes, also=,
%default), conn_to_description.py (a conn -> whack's connection description), setup.py
(config setup -> pluto options), startup.py (pluto --config adds the auto= conns).
ipsec.secrets is read by pluto/connections/secrets.py.
"""
