"""Helpers of the fault scenarios (testing/pluto/fault-*): waiting for log lines, netem."""
