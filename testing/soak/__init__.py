"""Soak test (issue 12): many short-lived tunnels rekeying under traffic for minutes."""
