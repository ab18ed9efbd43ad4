"""Wire codecs: IKEv2 (RFC 7296) and IKEv1/ISAKMP (RFC 2408), no I/O."""
