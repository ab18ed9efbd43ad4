"""IKE_SA_INIT (RFC 7296 §1.2, §2.6 cookies, §1.3/§2.7 INVALID_KE_PAYLOAD).

    initiate            -> send SA, KE, Ni, N(NAT_D...), N(HASH), N(CHILDLESS) -> ..._INIT_I
    process_request     (responder) choose, answer SA, KE, Nr, N(NAT_D...), N(HASH),
                        N(CHILDLESS)                                   -> STATE_V2_IKE_SA_INIT_R
    process_response    (initiator) derive keys, start IKE_AUTH       -> STATE_V2_IKE_AUTH_I
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pluto.connections.connection import Connection, Kind
from pluto.crypto.ke import InvalidKeyExchange
from pluto.crypto.proposals import parse_ike
from pluto.engine import outcome
from pluto.engine.host import Endpoint
from pluto.engine.states import IkeSa, StateKind
from pluto.ikev2 import announcements, messages, nat
from pluto.ikev2.auth import our_cert_request
from pluto.ikev2.keys import derive_ike_sa_keys
from pluto.ikev2.negotiation import Chosen, NoProposalChosen, accept_answer, choose, proposals_to_sa
from pluto.ikev2.protection import Protector
from pluto.packet.ikev2 import KEPayload, Message, NoncePayload, NotifyPayload, Payload, SAPayload
from pluto.packet.ikev2_types import ExchangeType, NotifyType

if TYPE_CHECKING:
    from pluto.engine.core import Pluto

NONCE_SIZE = 32  # libreswan's default; RFC 7296 asks for at least half the PRF key size
IKE_SA_INIT = ExchangeType.IKE_SA_INIT


def describe_ike_algorithms(chosen: Chosen) -> str:
    """``cipher=AES_GCM_16_256 integ=n/a prf=HMAC_SHA2_512 group=DH19`` as libreswan logs."""
    cipher = chosen.encr.fqn if chosen.encr else "n/a"
    if chosen.encr is not None and chosen.encr.variable_key:
        cipher = f"{cipher}_{chosen.encr_key_bits}"
    integ = "n/a" if chosen.integ is None or chosen.integ.is_none else chosen.integ.fqn
    prf = chosen.prf.fqn if chosen.prf else "n/a"
    group = chosen.ke.fqn if chosen.ke else "n/a"
    return f"cipher={cipher} integ={integ} prf={prf} group={group}"


# --- initiator -----------------------------------------------------------------------------


def initiate(core: Pluto, conn: Connection, whack=None, keying_try: int = 1) -> IkeSa:
    local: Endpoint = (conn.this.host, conn.this.ikeport)
    remote: Endpoint = (conn.that.host, conn.that.ikeport)
    spi_i = core.rand.spi_i(core.impairs, core.logger)
    ike = core.new_ike(conn, initiator=True, local=local, remote=remote, spi_i=spi_i,
                       kind=StateKind.STATE_V2_IKE_SA_INIT_I)
    ike.whack = whack
    ike.keying_try = keying_try
    ike.ike_proposals = parse_ike(conn.ike)
    ike.ke_group = ike.ike_proposals[0].ke[0]
    ike.logger.log("initiating IKEv2 connection")
    _send_request(core, ike)
    return ike


def _send_request(core: Pluto, ike: IkeSa, *, fresh_ke: bool = True) -> None:
    """Send (or, after a COOKIE or INVALID_KE_PAYLOAD answer, resend) IKE_SA_INIT.

    A retry with a COOKIE keeps Ni and KE (RFC 7296 §2.6: "all other payloads unchanged"):
    the responder's cookie is a hash over Ni, so a new nonce would make it worthless and the
    exchange would go round in circles. A retry with another group needs a new KE only.
    """
    if fresh_ke or ike.keypair is None:
        ike.keypair = ike.ke_group.implementation().generate(core.rand)
    if not ike.ni:
        ike.ni = core.rand.nonce(NONCE_SIZE, core.impairs, ike.logger)
    ike.offered_sa = proposals_to_sa(ike.ike_proposals)
    payloads: list[Payload] = []
    if ike.cookie:
        payloads.append(messages.notify(NotifyType.COOKIE, ike.cookie))
    payloads += [ike.offered_sa,
                 KEPayload(dh_group=ike.ke_group.ikev2_id, data=ike.keypair.public),
                 NoncePayload(data=ike.ni),
                 *nat.our_notifies(ike.conn, ike.spi_i, ike.spi_r, ike.local, ike.remote),
                 *announcements.ike_sa_init_notifies()]
    ike.next_request_id = 0  # a restarted IKE_SA_INIT starts again at zero (§2.6)
    messages.send_request(core, ike, IKE_SA_INIT, payloads, encrypted=False,
                          on_response=process_response)
    ike.init_request = ike.outstanding.datagram
    core.log_new_state(ike, f"sent IKE_SA_INIT request to {core.describe(ike.remote)}")


def process_response(core: Pluto, ike: IkeSa, msg: Message, payloads: list[Payload],
                     data: bytes) -> None:
    notifies = msg.all(NotifyPayload)
    cookie = next((n for n in notifies if n.notify_type == NotifyType.COOKIE), None)
    if cookie is not None:
        _retry_with_cookie(core, ike, cookie)
        return
    invalid_ke = next((n for n in notifies if n.notify_type == NotifyType.INVALID_KE_PAYLOAD),
                      None)
    if invalid_ke is not None:
        _retry_with_group(core, ike, invalid_ke)
        return
    error = next((n for n in notifies if n.notify_type < 16384), None)
    if error is not None:
        name = messages.notify_name(error.notify_type)
        outcome.fail(core, ike, error.notify_type,
                     f"IKE SA authentication request rejected by peer: {name}")
        return
    sa, ke, nonce = msg.first(SAPayload), msg.first(KEPayload), msg.first(NoncePayload)
    if sa is None or ke is None or nonce is None:
        outcome.fail(core, ike, NotifyType.INVALID_SYNTAX,
                     "IKE_SA_INIT response is missing SA, KE or Nr")
        return
    try:
        chosen = accept_answer(ike.offered_sa, sa, logger=core.logger)
    except NoProposalChosen as err:
        outcome.fail(core, ike, NotifyType.NO_PROPOSAL_CHOSEN,
                     f"IKE_SA_INIT response has an unacceptable proposal: {err}")
        return
    if chosen.ke is None or chosen.ke.ikev2_id != ke.dh_group \
            or ke.dh_group != ike.ke_group.ikev2_id:
        outcome.fail(core, ike, NotifyType.INVALID_KE_PAYLOAD,
                     f"IKE_SA_INIT response KE group {ke.dh_group} is not the one we sent")
        return
    try:
        g_ir = ike.keypair.shared_secret(ke.data)
    except InvalidKeyExchange as err:
        outcome.fail(core, ike, NotifyType.INVALID_SYNTAX, f"peer's KE is invalid: {err}")
        return
    core.states.rekeyed_spis(ike, msg.rspi)
    announcements.record_peer(ike, notifies, ike.logger)
    nat.detected(core, ike, msg, ike.local, ike.remote)
    ike.nr = nonce.data
    ike.chosen = chosen
    ike.init_response = data
    ike.keys = derive_ike_sa_keys(chosen, ike.ni, ike.nr, g_ir, ike.spi_i, ike.spi_r)
    ike.protector = Protector(ike.keys, initiator=True, logger=core.logger)
    ike.logger.log(f"processed IKE_SA_INIT response from {core.describe(ike.remote)} "
                   f"{{{describe_ike_algorithms(chosen)}}}, initiating IKE_AUTH")
    from pluto.ikev2 import ike_auth

    nat.float_initiator(core, ike)
    ike_auth.send_request(core, ike)


# A responder that keeps asking for new cookies is broken or hostile: give up after this many.
MAX_COOKIE_RETRIES = 3


def _retry_with_cookie(core: Pluto, ike: IkeSa, notify: NotifyPayload) -> None:
    # The count lives on the state (not a declared field of IkeSa yet).
    tries = ike.cookie_retries + 1
    if not 1 <= len(notify.data) <= 64:  # RFC 7296 §2.6: 1 to 64 octets
        outcome.fail(core, ike, NotifyType.INVALID_SYNTAX,
                     f"IKE_SA_INIT response has a COOKIE of {len(notify.data)} octets")
        return
    if tries > MAX_COOKIE_RETRIES:
        outcome.fail(core, ike, None, f"giving up after {MAX_COOKIE_RETRIES} anti-DDOS COOKIE "
                                      "responses")
        return
    ike.cookie_retries = tries
    ike.cookie = notify.data
    ike.logger.log("received anti-DDOS COOKIE response, resending IKE_SA_INIT request "
                   "with COOKIE")
    _send_request(core, ike, fresh_ke=False)


def _retry_with_group(core: Pluto, ike: IkeSa, notify: NotifyPayload) -> None:
    group = int.from_bytes(notify.data[:2], "big") if len(notify.data) >= 2 else None
    ours = {ke.ikev2_id: ke for p in ike.ike_proposals for ke in p.ke}
    if group is None or group not in ours or group == ike.ke_group.ikev2_id:
        outcome.fail(core, ike, NotifyType.INVALID_KE_PAYLOAD,
                     f"received INVALID_KE_PAYLOAD suggesting group {group}, which we cannot "
                     "use")
        return
    old = ike.ke_group
    ike.ke_group = ours[group]
    ike.logger.log(f"received INVALID_KE_PAYLOAD response to {old.fqn}; resending "
                   f"IKE_SA_INIT request with {ike.ke_group.fqn}")
    _send_request(core, ike)


# --- responder -----------------------------------------------------------------------------


def process_request(core: Pluto, msg: Message, data: bytes, local: Endpoint,
                    remote: Endpoint) -> None:
    where = f"packet from {core.describe(remote)}"
    candidates = core.connections.candidates_for(local, remote)
    if not candidates:
        core.logger.log(f"{where}: IKE_SA_INIT request has no suitable connection")
        messages.send_cleartext_notify(core, msg, local, remote, NotifyType.NO_PROPOSAL_CHOSEN)
        return
    conn = candidates[0]
    sa, ke, nonce = msg.first(SAPayload), msg.first(KEPayload), msg.first(NoncePayload)
    if sa is None or ke is None or nonce is None:
        core.logger.log(f"{where}: IKE_SA_INIT request is missing SA, KE or Ni; "
                        "responding with INVALID_SYNTAX")
        messages.send_cleartext_notify(core, msg, local, remote, NotifyType.INVALID_SYNTAX)
        return
    if core.options.force_busy:
        from pluto.ikev2 import cookie as cookie_mod

        if core._cookies is None:
            core._cookies = cookie_mod.Cookies(core.rand, core.clock)
        got = next((n for n in msg.all(NotifyPayload) if n.notify_type == NotifyType.COOKIE),
                   None)
        if got is None or not core._cookies.check(got.data, nonce.data, remote[0], msg.ispi):
            core.logger.log(f"{where}: busy: responding to IKE_SA_INIT request with COOKIE")
            messages.send_cleartext_notify(
                core, msg, local, remote, NotifyType.COOKIE,
                core._cookies.make(nonce.data, remote[0], msg.ispi))
            return
    proposals = parse_ike(conn.ike)
    try:
        chosen = choose(proposals, sa, ke_hint=ke.dh_group, logger=core.logger)
    except NoProposalChosen as err:
        core.logger.log(f"{conn.label}: {where}: no acceptable IKE proposal ({err}); "
                        "responding with NO_PROPOSAL_CHOSEN")
        messages.send_cleartext_notify(core, msg, local, remote, NotifyType.NO_PROPOSAL_CHOSEN)
        return
    if chosen.ke is None or chosen.ke.ikev2_id != ke.dh_group:
        wanted = chosen.ke.ikev2_id if chosen.ke else 0
        core.logger.log(f"{conn.label}: {where}: KE payload is for group {ke.dh_group}, "
                        f"we chose {chosen.ke.fqn if chosen.ke else 'none'}; responding with "
                        "INVALID_KE_PAYLOAD")
        messages.send_cleartext_notify(core, msg, local, remote, NotifyType.INVALID_KE_PAYLOAD,
                                       wanted.to_bytes(2, "big"))
        return
    if conn.kind is Kind.TEMPLATE:
        conn = core.connections.instantiate(conn, remote)
    ike = core.new_ike(conn, initiator=False, local=local, remote=remote, spi_i=msg.ispi,
                       kind=StateKind.STATE_V2_IKE_SA_INIT_R)
    keypair = chosen.ke.implementation().generate(core.rand)
    try:
        g_ir = keypair.shared_secret(ke.data)
    except InvalidKeyExchange as err:
        ike.logger.log(f"peer's KE is invalid ({err}); responding with INVALID_SYNTAX")
        messages.send_cleartext_notify(core, msg, local, remote, NotifyType.INVALID_SYNTAX)
        outcome.delete_state(core, ike)
        return
    core.states.rekeyed_spis(ike, core.rand.spi_r(core.impairs, ike.logger))
    ike.ni, ike.nr = nonce.data, core.rand.nonce(NONCE_SIZE, core.impairs, ike.logger)
    ike.chosen, ike.keypair, ike.ke_group = chosen, keypair, chosen.ke
    ike.keys = derive_ike_sa_keys(chosen, ike.ni, ike.nr, g_ir, ike.spi_i, ike.spi_r)
    ike.protector = Protector(ike.keys, initiator=False, logger=core.logger)
    ike.init_request = data
    announcements.record_peer(ike, msg.all(NotifyPayload), ike.logger)
    nat.detected(core, ike, msg, local, remote)
    payloads = [chosen.to_sa(), KEPayload(dh_group=chosen.ke.ikev2_id, data=keypair.public),
                NoncePayload(data=ike.nr), *our_cert_request(conn, core.certs),
                *nat.our_notifies(conn, ike.spi_i, ike.spi_r, ike.local, ike.remote),
                *announcements.ike_sa_init_notifies()]
    ike.init_response = messages.send_response(core, ike, msg, payloads, encrypted=False)
    core.log_new_state(ike, f"sent IKE_SA_INIT response to {core.describe(remote)} "
                            f"{{{describe_ike_algorithms(chosen)}}}")
    # A half-open SA whose initiator never comes back is dropped quietly.
    core.schedule(ike, "discard", core.options.retransmit_timeout,
                  lambda: outcome.discard_half_open(core, ike))
