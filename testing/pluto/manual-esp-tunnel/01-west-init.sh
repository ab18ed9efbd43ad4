ip xfrm state add src 198.51.100.45 dst 198.51.100.23 proto esp spi 0x00000201 reqid 1 mode tunnel auth-trunc 'hmac(sha256)' 0x2020202020202020202020202020202020202020202020202020202020202020 128 enc 'cbc(aes)' 0x10101010101010101010101010101010
ip xfrm state add src 198.51.100.23 dst 198.51.100.45 proto esp spi 0x00000202 reqid 1 mode tunnel aead 'rfc4106(gcm(aes))' 0x3030303030303030303030303030303031313131 128
ip xfrm policy add src 198.18.1.0/24 dst 198.18.2.0/24 dir out tmpl src 198.51.100.45 dst 198.51.100.23 proto esp reqid 1 mode tunnel
ip xfrm policy add src 198.18.2.0/24 dst 198.18.1.0/24 dir in tmpl src 198.51.100.23 dst 198.51.100.45 proto esp reqid 1 mode tunnel
ip xfrm policy add src 198.18.2.0/24 dst 198.18.1.0/24 dir fwd tmpl src 198.51.100.23 dst 198.51.100.45 proto esp reqid 1 mode tunnel
python -m labs.verify xfrm
