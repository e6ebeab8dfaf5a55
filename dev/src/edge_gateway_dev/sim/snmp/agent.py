"""The SNMP engine of one simulated AP: v2c communities, v3 USM, faults, over one UDP socket.

Behaviour on bad input mirrors a real agent: a v2c request with an unknown community is dropped without a
word (so the poller times out), malformed datagrams and v1 are dropped, and v3 problems are answered
with the RFC 3414 REPORTs (unknown engine ID for discovery, not in time window, unknown user, wrong
digest, unsupported security level, decryption error) when the request is reportable. Every AP has a
v3 engine, as net-snmp's snmpd has: an AP configured for v2c only still answers discovery (and then
refuses every user), which is how a prober tells "speaks SNMP, wrong community" from "silent".
"""

from __future__ import annotations

import asyncio
from typing import cast

from edge_gateway_dev.sim.snmp import usm
from edge_gateway_dev.sim.snmp.ber import (
    GET,
    GET_BULK,
    GET_NEXT,
    OCTET_STRING,
    SEQUENCE,
    BerError,
    encode_int,
    expect,
    parse_oid,
    read_int,
    read_octets,
    tlv,
)
from edge_gateway_dev.sim.snmp.model import ApModel
from edge_gateway_dev.sim.snmp.pdu import Request, TableFaults, answer, decode_pdu
from edge_gateway_dev.sim.snmp.spec import AgentStats
from edge_gateway_dev.sim.snmp.v3 import V3Engine

MAX_MESSAGE_BYTES = 65507


class ApAgent:
    """Turns a datagram into the reply bytes (or None) for one AP; no I/O here, so tests can call it."""

    def __init__(self, model: ApModel) -> None:
        self.model = model
        self.stats = AgentStats()
        spec = model.spec
        self.v3 = V3Engine(model, spec.v3, self.serve, self.stats)

    def is_up(self, now_s: float) -> bool:
        faults = self.model.spec.faults
        if faults.no_reply:
            return False
        period = faults.flap_period_s
        return not (period and int(now_s // period) % 2 == 1)

    def table_faults(self) -> TableFaults:
        faults = self.model.spec.faults
        table = self.model.profile.fault_table
        truncate = None
        if faults.truncate_rows is not None:
            truncate = table if faults.truncate_table is None else parse_oid(faults.truncate_table)
        return TableFaults(
            truncate_prefix=truncate,
            truncate_rows=faults.truncate_rows or 0,
            non_increasing_prefix=table if faults.non_increasing else None,
            too_big_varbinds=faults.too_big_varbinds,
        )

    def serve(self, request: Request, now_s: float, max_bytes: int) -> bytes:
        """The Response-PDU for a request already authenticated (community or USM)."""
        view = self.model.view(now_s)
        if self.model.spec.faults.max_reply_bytes is not None:
            max_bytes = min(max_bytes, self.model.spec.faults.max_reply_bytes)
        name = {GET: "get", GET_NEXT: "getnext", GET_BULK: "getbulk"}.get(request.tag, "set")
        self.stats.by_pdu[name] = self.stats.by_pdu.get(name, 0) + 1
        self.stats.responses += 1
        self.stats.last_request_s = now_s
        pdu = answer(
            view,
            request.tag,
            request.request_id,
            request.field_a,
            request.field_b,
            request.oids,
            self.table_faults(),
            max_bytes,
        )
        return pdu

    def handle(self, data: bytes, now_s: float) -> bytes | None:
        if not self.is_up(now_s):
            self.stats.dropped_silently += 1
            return None
        try:
            start, stop = expect(data, 0, len(data), SEQUENCE)
            version, pos = read_int(data, start, stop)
            if version == 3:
                return self.v3.handle(data, pos, stop, now_s)
            if version == 1:
                return self._community(data, pos, stop, now_s)
        except (BerError, usm.UsmError, ValueError):
            self.stats.malformed += 1
            return None
        self.stats.dropped_silently += 1
        return None

    def _community(self, data: bytes, pos: int, stop: int, now_s: float) -> bytes | None:
        community, pos = read_octets(data, pos, stop)
        expected = self.model.spec.community
        if expected is None or self.model.spec.faults.wrong_community or community != expected.encode():
            self.stats.dropped_silently += 1
            return None
        request = decode_pdu(data, pos, stop)
        pdu = self.serve(request, now_s, MAX_MESSAGE_BYTES)
        return tlv(SEQUENCE, encode_int(1) + tlv(OCTET_STRING, community) + pdu)


class ApProtocol(asyncio.DatagramProtocol):
    """One UDP socket per AP; a delay fault defers the send with call_later, never blocking the loop."""

    def __init__(self, agent: ApAgent) -> None:
        self.agent = agent
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        agent = self.agent
        reply = agent.handle(data, agent.model.clock())
        if reply is None or self.transport is None:
            return
        delay_ms = agent.model.spec.faults.delay_ms
        if delay_ms > 0:
            asyncio.get_running_loop().call_later(delay_ms / 1000, self._send, reply, addr)
        else:
            self.transport.sendto(reply, addr)

    def _send(self, reply: bytes, addr: tuple[str | object, int]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(reply, addr)
