"""IKEv2 exchanges as transition tables and handlers (no I/O). Arrives with issue 3."""
