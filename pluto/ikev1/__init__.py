"""IKEv1 (no I/O): Main Mode with PSK, Quick Mode with PFS, Informational Delete/notify.
Aggressive Mode, RSA, XAUTH, Mode Config, NAT-T, DPD and rekeying are still to come (issue 8).
"""
