"""Crypto: algorithm registry, primitives, key exchange, KDFs, proposal strings."""
