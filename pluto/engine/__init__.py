"""The protocol core of one pluto: events in, effects out, no I/O of its own (DESIGN.md §3)."""
