"""XfrmKernel.update_sa: a NAT port change updates the installed SA in place (UPDSA), which
keeps its sequence numbers; an SA whose source address changes is deleted and added again.
The netlink channel is replaced by a recorder: these are the requests the kernel would get."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from pluto.kernel.ops import SaId, SaSpec
from pluto.kernel.xfrm import XfrmKernel
from pluto.kernel.xfrm_messages import XfrmMsg

ip = ipaddress.ip_address


class RecordingChannel:
    def __init__(self) -> None:
        self.requests = []

    def request(self, operation, request, dump=False, ack=True):
        self.requests.append((operation, request))
        return []

    def close(self) -> None:
        pass


def _sa(**changes) -> SaSpec:
    sa = SaSpec(id=SaId(ip("198.51.100.254"), 0x12345678), src=ip("198.51.100.23"),
                mode="tunnel", src_selector=ipaddress.ip_network("198.18.2.0/24"),
                dst_selector=ipaddress.ip_network("203.0.113.209/32"), encrypt="AES_GCM_16",
                encrypt_key=bytes(36), encrypt_key_bits=256, integ=None, integ_key=b"",
                reqid=16384, encap_sport=4500, encap_dport=20362)
    return replace(sa, **changes)


def _encap(request) -> dict:
    return dict(request.attrs)["XFRMA_ENCAP"]


def test_new_ports_are_an_updsa_of_the_same_sa():
    channel = RecordingChannel()
    kernel = XfrmKernel(channel=channel)
    kernel.add_sa(_sa())
    kernel.update_sa(_sa(encap_dport=21613))
    (op_add, add), (op_update, update) = channel.requests
    assert add.msg_type == XfrmMsg.NEWSA and update.msg_type == XfrmMsg.UPDSA
    assert op_update == "update SA esp.12345678@198.51.100.254"
    assert update.fields["id"]["spi"] == 0x12345678
    assert (_encap(update)["encap_sport"], _encap(update)["encap_dport"]) == (4500, 21613)
    assert kernel.installed_sas() == [_sa(encap_dport=21613)]


def test_a_new_source_address_is_delete_and_add():
    channel = RecordingChannel()
    kernel = XfrmKernel(channel=channel)
    kernel.add_sa(_sa())
    kernel.update_sa(_sa(src=ip("198.51.100.23"), encap_dport=21613))  # same source: update
    kernel.update_sa(_sa(src=ip("198.51.100.45")))
    types = [request.msg_type for _op, request in channel.requests]
    assert types == [XfrmMsg.NEWSA, XfrmMsg.UPDSA, XfrmMsg.DELSA, XfrmMsg.NEWSA]
    assert kernel.installed_sas() == [_sa(src=ip("198.51.100.45"))]
