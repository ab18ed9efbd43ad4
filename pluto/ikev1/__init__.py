"""IKEv1 Main/Aggressive/Quick/Informational/XAUTH (no I/O). Arrives with issue 8."""
