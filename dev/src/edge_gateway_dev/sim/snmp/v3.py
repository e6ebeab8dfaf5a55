"""SNMPv3 message processing with USM (RFC 3412 and 3414), for one AP with one user or none.

The order of checks is the RFC's, because pollers rely on the REPORT they get back: an empty or foreign
engine ID -> usmStatsUnknownEngineIDs with this engine's ID, boots and time (discovery, RFC 3414 §4;
answered with no v3 user configured too, as snmpd does), then the user name, the security level, the
digest, the time window (boots must match, time within 150 s; RFC 3414 §3.2 step 7) and finally
decryption. The `clock_skew_s` fault is a broken engine clock: requests are checked against a time that
differs from the one the REPORTs advertise, so a poller that resynchronises from the REPORT is still
out of the window, a usmStatsNotInTimeWindows that no resynchronisation cures.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from edge_gateway_dev.sim.snmp import usm
from edge_gateway_dev.sim.snmp.ber import (
    COUNTER32,
    OCTET_STRING,
    REPORT,
    SEQUENCE,
    BerError,
    encode_int,
    encode_oid,
    encode_unsigned,
    expect,
    read_int,
    read_octets,
    read_tlv,
    tlv,
)
from edge_gateway_dev.sim.snmp.pdu import Request, decode_pdu
from edge_gateway_dev.sim.snmp.spec import AgentStats

if TYPE_CHECKING:
    from edge_gateway_dev.sim.snmp.model import ApModel

USM_STATS = (1, 3, 6, 1, 6, 3, 15, 1, 1)
UNSUPPORTED_SEC_LEVELS = 1
NOT_IN_TIME_WINDOWS = 2
UNKNOWN_USER_NAMES = 3
UNKNOWN_ENGINE_IDS = 4
WRONG_DIGESTS = 5
DECRYPTION_ERRORS = 6
TIME_WINDOW_S = 150
MAX_MESSAGE_BYTES = 65507
_AUTH, _PRIV, _REPORTABLE = 0x01, 0x02, 0x04
_ZERO_DIGEST = bytes(usm.AUTH_PARAM_BYTES)

Serve = Callable[[Request, float, int], bytes]


class V3Engine:
    def __init__(self, model: ApModel, user: usm.V3User | None, serve: Serve, stats: AgentStats) -> None:
        self.model = model
        self.user = None if user is None else usm.LocalizedUser.from_user(user, model.engine_id)
        self.serve = serve
        self.stats = stats
        self.usm_counters = dict.fromkeys(range(1, 7), 0)
        self._salt = int.from_bytes(os.urandom(8), "big")

    def handle(self, data: bytes, pos: int, stop: int, now_s: float) -> bytes | None:
        g_start, g_stop = expect(data, pos, stop, SEQUENCE)
        msg_id, p = read_int(data, g_start, g_stop)
        max_size, p = read_int(data, p, g_stop)
        flag_bytes, p = read_octets(data, p, g_stop)
        security_model, _ = read_int(data, p, g_stop)
        flags = flag_bytes[0] if flag_bytes else 0
        if security_model != 3 or (flags & _PRIV and not flags & _AUTH):
            raise BerError("not a USM message this agent can answer")
        sp_start, sp_stop = expect(data, g_stop, stop, OCTET_STRING)
        s_start, s_stop = expect(data, sp_start, sp_stop, SEQUENCE)
        engine_id, p = read_octets(data, s_start, s_stop)
        boots, p = read_int(data, p, s_stop)
        engine_time, p = read_int(data, p, s_stop)
        user_name, p = read_octets(data, p, s_stop)
        auth_start, auth_stop = expect(data, p, s_stop, OCTET_STRING)
        salt, _ = read_octets(data, auth_stop, s_stop)
        body = (sp_stop, stop)
        reportable = bool(flags & _REPORTABLE)
        user = self.user

        def report(counter: int, level: int = 0, request_id: int = 0) -> bytes | None:
            self.usm_counters[counter] += 1
            if not reportable:
                self.stats.dropped_silently += 1
                return None
            return self._report(msg_id, counter, level, user_name, request_id, now_s)

        if engine_id != self.model.engine_id:
            return report(UNKNOWN_ENGINE_IDS, request_id=self._plain_request_id(data, flags, body))
        if user is None or user_name != user.name:
            return report(UNKNOWN_USER_NAMES, request_id=self._plain_request_id(data, flags, body))
        wants_auth, wants_priv = bool(flags & _AUTH), bool(flags & _PRIV)
        if wants_auth != (user.auth_key is not None) or wants_priv != (user.priv_key is not None):
            return report(UNSUPPORTED_SEC_LEVELS)
        if user.auth_key is not None:
            if auth_stop - auth_start != usm.AUTH_PARAM_BYTES:
                return report(WRONG_DIGESTS)
            zeroed = data[:auth_start] + _ZERO_DIGEST + data[auth_stop:]
            if usm.auth_digest(user.auth_key, zeroed, user.auth_protocol) != data[auth_start:auth_stop]:
                return report(WRONG_DIGESTS)
            our_time = self.model.engine_time_s(now_s) + self.model.spec.faults.clock_skew_s
            if boots != self.model.engine_boots or abs(engine_time - our_time) > TIME_WINDOW_S:
                return report(NOT_IN_TIME_WINDOWS, level=_AUTH)
        scoped, start, end = data, body[0], body[1]
        if user.priv_key is not None:
            cipher_text, _ = read_octets(data, start, end)
            if len(salt) != 8:
                return report(DECRYPTION_ERRORS)
            scoped = usm.aes_decrypt(user.priv_key, boots, engine_time, salt, cipher_text)
            start, end = 0, len(scoped)
        try:
            sc_start, sc_stop = expect(scoped, start, end, SEQUENCE)
            _, p = read_octets(scoped, sc_start, sc_stop)
            context_name, p = read_octets(scoped, p, sc_stop)
            request = decode_pdu(scoped, p, sc_stop)
        except BerError:
            if user.priv_key is not None:
                return report(DECRYPTION_ERRORS)
            raise
        limit = min(max(max_size, 484), MAX_MESSAGE_BYTES) - 100  # room for the v3 header
        pdu = self.serve(request, now_s, limit)
        context = tlv(OCTET_STRING, self.model.engine_id) + tlv(OCTET_STRING, context_name)
        return self._message(msg_id, flags & (_AUTH | _PRIV), user_name, tlv(SEQUENCE, context + pdu), now_s)

    def _plain_request_id(self, data: bytes, flags: int, body: tuple[int, int]) -> int:
        """The request-id of an unencrypted scoped PDU (discovery), so the REPORT matches it."""
        if flags & _PRIV:
            return 0
        try:
            sc_start, sc_stop = expect(data, body[0], body[1], SEQUENCE)
            _, p = read_octets(data, sc_start, sc_stop)
            _, p = read_octets(data, p, sc_stop)
            _, pdu_start, pdu_stop = read_tlv(data, p, sc_stop)
            request_id, _ = read_int(data, pdu_start, pdu_stop)
        except BerError:
            return 0
        return request_id

    def _report(
        self, msg_id: int, counter: int, level: int, user_name: bytes, request_id: int, now_s: float
    ) -> bytes:
        self.stats.reports += 1
        oid = (*USM_STATS, counter, 0)
        varbind = tlv(SEQUENCE, encode_oid(oid) + encode_unsigned(COUNTER32, self.usm_counters[counter]))
        pdu = tlv(REPORT, encode_int(request_id) + encode_int(0) + encode_int(0) + tlv(SEQUENCE, varbind))
        context = tlv(OCTET_STRING, self.model.engine_id) + tlv(OCTET_STRING, b"")
        return self._message(msg_id, level, user_name, tlv(SEQUENCE, context + pdu), now_s)

    def _message(self, msg_id: int, level: int, user_name: bytes, scoped: bytes, now_s: float) -> bytes:
        """A whole v3 message: encrypt the scoped PDU if asked, then sign it if asked."""
        user = self.user
        boots, engine_time = self.model.engine_boots, self.model.engine_time_s(now_s)
        salt = b""
        msg_data = scoped
        if level & _PRIV and user is not None and user.priv_key is not None:
            self._salt = (self._salt + 1) % 2**64
            salt = self._salt.to_bytes(8, "big")
            msg_data = tlv(OCTET_STRING, usm.aes_encrypt(user.priv_key, boots, engine_time, salt, scoped))
        auth_params = _ZERO_DIGEST if level & _AUTH else b""
        salt_tlv = tlv(OCTET_STRING, salt)
        security = tlv(
            SEQUENCE,
            tlv(OCTET_STRING, self.model.engine_id)
            + encode_int(boots)
            + encode_int(engine_time)
            + tlv(OCTET_STRING, user_name)
            + tlv(OCTET_STRING, auth_params)
            + salt_tlv,
        )
        header = tlv(
            SEQUENCE,
            encode_int(msg_id)
            + encode_int(MAX_MESSAGE_BYTES)
            + tlv(OCTET_STRING, bytes((level,)))
            + encode_int(3),
        )
        message = tlv(SEQUENCE, encode_int(3) + header + tlv(OCTET_STRING, security) + msg_data)
        if level & _AUTH and user is not None and user.auth_key is not None:
            offset = len(message) - len(msg_data) - len(salt_tlv) - usm.AUTH_PARAM_BYTES
            digest = usm.auth_digest(user.auth_key, message, user.auth_protocol)
            message = message[:offset] + digest + message[offset + usm.AUTH_PARAM_BYTES :]
        return message
