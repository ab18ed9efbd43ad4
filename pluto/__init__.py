"""pluto: an IKE keying daemon in the FreeS/WAN and libreswan tradition."""

__version__ = "0.1.0"
