"""The ISAKMP Transaction exchange (exchange type 6) that carries XAUTH and Mode Config
(draft-ietf-ipsec-isakmp-xauth, draft-dukes-ike-mode-cfg), and what runs between Main Mode
and Quick Mode:

    server (responder)                        client (initiator)
    MAIN_R3 --REQUEST(user, password)-->      XAUTH_I0
    XAUTH_R0 <--REPLY(user, password)--       XAUTH_I1
    XAUTH_R0 --SET(status)-->                 XAUTH_I1
    XAUTH_R1 <--ACK(status)--                 (MODE_CFG_I0, or Quick Mode)
    XAUTH_R1 --SET(INTERNAL_IP4_ADDRESS)-->   MODE_CFG_I0          (push)
    MODE_CFG_R1 <--ACK--                      Quick Mode from the pushed address
    MAIN_R3 <--REQUEST(address)--             MODE_CFG_I1          (modecfgpull=yes)
    MAIN_R3 --REPLY(address)-->               Quick Mode from that address

Every message is ``HDR*, HASH, ATTR`` with HASH = prf(SKEYID_a, M-ID | ATTR); a REQUEST or
SET opens an exchange with a fresh message ID (and its own IV chain), the REPLY or ACK ends
it. The ISAKMP SA's retransmit bookkeeping resends an unanswered REQUEST or SET.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pluto.crypto.constant_time import bytes_equal
from pluto.engine import outcome
from pluto.ikev1 import messages
from pluto.ikev1.states import IsakmpSa, V1StateKind
from pluto.packet.ikev1 import (
    HashPayload,
    Message,
    ModeConfigPayload,
    emit_payloads,
)
from pluto.packet.ikev1_types import ExchangeType, ModeCfgType

if TYPE_CHECKING:
    from pluto.engine.core import Pluto

TRANSACTION = ExchangeType.TRANSACTION
K = V1StateKind


def roles(isakmp: IsakmpSa) -> tuple[bool, bool, bool, bool]:
    """(xauth server, xauth client, modecfg server, modecfg client) for our end."""
    ours = isakmp.conn.this.v1cfg
    return ours.xauthserver, ours.xauthclient, ours.modecfgserver, ours.modecfgclient


def send(core: Pluto, isakmp: IsakmpSa, message_id: int, attr: ModeConfigPayload, *,
         wait: bool) -> None:
    """``HDR*, HASH, ATTR`` in exchange ``message_id``; with ``wait`` resend until answered."""
    crypto = isakmp.crypto
    _first, body = emit_payloads([attr])
    payloads = [HashPayload(crypto.informational_hash(message_id, body)), attr]
    datagram = messages.encode(core, isakmp, TRANSACTION, message_id, payloads, encrypt=True)
    if not wait:
        crypto.forget(message_id)  # the exchange ends with this message
    messages.send(core, isakmp, isakmp, datagram, wait=wait)


def new_message_id(core: Pluto, isakmp: IsakmpSa) -> int:
    while True:
        message_id = core.rand.randint(1, 0xFFFFFFFF)
        if message_id not in isakmp.seen_ids:
            isakmp.seen_ids.add(message_id)
            return message_id


def message_in(core: Pluto, isakmp: IsakmpSa, msg: Message, data: bytes) -> None:
    """A Transaction message on ``isakmp``: check it, then let XAUTH or Mode Config act."""
    from pluto.ikev1 import modecfg, xauth

    if messages.answer_duplicate(core, isakmp, isakmp, data):
        return
    crypto = isakmp.crypto
    if msg.encrypted is None or crypto is None or crypto.phase1_last_block is None:
        isakmp.logger.log("Transaction message before phase 1 finished or not encrypted; "
                          "dropping it")
        return
    decrypted = messages.decrypt_payloads(isakmp, msg, "Transaction")
    if decrypted is None:
        return
    payloads, rest = decrypted
    attr = next((p for p in payloads if isinstance(p, ModeConfigPayload)), None)
    if not payloads or not isinstance(payloads[0], HashPayload) or attr is None \
            or not bytes_equal(crypto.informational_hash(msg.message_id, rest),
                               payloads[0].data):
        isakmp.logger.log("Transaction message has a missing or wrong HASH or no attribute "
                          "payload; dropping it")
        return
    handler = xauth.handler_for(isakmp, attr) or modecfg.handler_for(isakmp, attr)
    if handler is None:
        isakmp.logger.log(f"{isakmp.kind.name}: unexpected Transaction message "
                          f"({_cfg_name(attr.cfg_type)}); ignoring it")
        crypto.forget(msg.message_id)
        return
    crypto.accept(msg.message_id, msg.encrypted.data)
    messages.accepted(core, isakmp, data)
    if attr.cfg_type in (ModeCfgType.REPLY, ModeCfgType.ACK):
        crypto.forget(msg.message_id)  # the answer ends the exchange
    handler(core, isakmp, msg.message_id, attr)


def _cfg_name(cfg_type: int) -> str:
    try:
        return ModeCfgType(cfg_type).name
    except ValueError:
        return str(cfg_type)


# --- sequencing: what follows Main Mode -------------------------------------------------


def main_inR3(core: Pluto, isakmp: IsakmpSa, msg: Message, data: bytes) -> None:
    """MR3 for an XAUTH or Mode Config client: Main Mode's ending without its Quick Mode,
    which waits until the server has authenticated us and given us our address."""
    from pluto.ikev1 import main_mode

    _xs, xauth_client, _ms, modecfg_client = roles(isakmp)
    if not (xauth_client or modecfg_client):
        main_mode.main_inR3(core, isakmp, msg, data)
        return
    peer = main_mode.check_peer(core, isakmp, msg, responder=False)
    if peer is None:
        return
    messages.accepted(core, isakmp, data)
    isakmp.crypto.phase1_done()
    main_mode.established(core, isakmp, peer, K.STATE_MAIN_I4)


def after_phase1(core: Pluto, isakmp: IsakmpSa) -> None:
    """Main Mode is up: start XAUTH / Mode Config as our roles say (the server acts, the
    client waits for it)."""
    from pluto.ikev1 import modecfg, xauth

    xauth_server, xauth_client, modecfg_server, modecfg_client = roles(isakmp)
    isakmp.phase1_kind = isakmp.kind  # Main Mode's or Aggressive Mode's established state
    if isakmp.initiator:
        if xauth_client or modecfg_client:
            # the server speaks first; a client it never talks to must not wait forever
            core.schedule(isakmp, "cfg-wait", core.options.retransmit_timeout,
                          lambda: _client_gave_up(core, isakmp))
        if xauth_client:
            core.change_state(isakmp, K.STATE_XAUTH_I0)  # type: ignore[arg-type]
            isakmp.logger.log("XAUTH client: waiting for the server's request")
        elif modecfg_client:
            modecfg.client_start(core, isakmp)
        return
    if xauth_server:
        xauth.server_start(core, isakmp)
    elif modecfg_server and not isakmp.conn.modecfgpull:  # else the client asks
        modecfg.server_push(core, isakmp)


def client_step_done(core: Pluto, isakmp: IsakmpSa, after_xauth: bool) -> None:
    """The client finished XAUTH (``after_xauth``) or Mode Config: next step, or Quick Mode."""
    from pluto.ikev1 import modecfg, rekey

    if after_xauth and roles(isakmp)[3]:
        modecfg.client_start(core, isakmp)
        return
    core.cancel(isakmp, "cfg-wait")
    core.change_state(isakmp, isakmp.phase1_kind or K.STATE_MAIN_I4)
    rekey.after_phase1(core, isakmp)


def server_step_done(core: Pluto, isakmp: IsakmpSa, after_xauth: bool) -> None:
    from pluto.ikev1 import modecfg

    if after_xauth and roles(isakmp)[2] and not isakmp.conn.modecfgpull:
        modecfg.server_push(core, isakmp)
        return
    core.change_state(isakmp, isakmp.phase1_kind or K.STATE_MAIN_R3)


def _client_gave_up(core: Pluto, isakmp: IsakmpSa) -> None:
    if core.states.get(isakmp.serial) is not isakmp or isakmp.kind.established:
        return
    reason = (f"{isakmp.kind.name}: {core.options.retransmit_timeout:g} seconds without "
              "XAUTH or Mode Config from the server; giving up")
    core.logger.sink(isakmp.logger.prefix + reason)
    outcome.release_whack(core, isakmp, outcome.RC_TIMEOUT, isakmp.logger.prefix + reason)
    outcome.delete_state(core, isakmp)
