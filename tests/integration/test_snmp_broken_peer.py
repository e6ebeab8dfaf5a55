"""Polite to broken devices, over real UDP: a peer whose tables never end, and one that answers
bytes no SNMP library can decode. The peer counts the requests it received, poll by poll.

The peer is a few lines of v2c on the simulator's BER codec (`edge_gateway_dev.sim.snmp.ber`): every
GETNEXT/GETBULK answers the next row of the same column, forever; GET answers sysUpTime and
noSuchInstance for everything else.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest

from edge_gateway.agent.collectors.snmp import settings_for
from edge_gateway.agent.collectors.snmp.config import SnmpSection
from edge_gateway.agent.collectors.snmp.poller import SnmpPoller
from edge_gateway.agent.collectors.snmp.profile import MAX_REQUESTS_PER_POLL
from edge_gateway.agent.scheduler import Accumulator, SourceHealth
from edge_gateway.core.validation import validate
from edge_gateway_dev.sim.snmp.ber import (
    GET,
    NO_SUCH_INSTANCE,
    OCTET_STRING,
    SEQUENCE,
    TIMETICKS,
    Oid,
    encode_int,
    encode_oid,
    encode_unsigned,
    expect,
    parse_oid,
    read_int,
    read_octets,
    tlv,
)
from edge_gateway_dev.sim.snmp.pdu import decode_pdu, response_pdu

pytestmark = pytest.mark.integration
SYS_UPTIME = parse_oid("1.3.6.1.2.1.1.3.0")


def _varbind(oid: Oid, value: bytes) -> bytes:
    return tlv(SEQUENCE, encode_oid(oid) + value)


def _next(oid: Oid, column_arcs: int) -> Oid:
    """The row after `oid` in its column: a column OID's first row is .1, then .2, .3, ..."""
    return (*oid, 1) if len(oid) <= column_arcs else (*oid[:-1], oid[-1] + 1)


class BrokenPeer(asyncio.DatagramProtocol):
    def __init__(self, garbage: bool) -> None:
        self.garbage = garbage
        self.requests = 0
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.requests += 1
        assert self.transport is not None
        self.transport.sendto(b"\x30\x05\x02\x01\x01\xff" if self.garbage else self._answer(data), addr)

    def _answer(self, data: bytes) -> bytes:
        start, stop = expect(data, 0, len(data), SEQUENCE)
        _, pos = read_int(data, start, stop)
        community, pos = read_octets(data, pos, stop)
        request = decode_pdu(data, pos, stop)
        if request.tag == GET:
            uptime = encode_unsigned(TIMETICKS, 12345)
            nothing = bytes((NO_SUCH_INSTANCE, 0))
            varbinds = [_varbind(oid, uptime if oid == SYS_UPTIME else nothing) for oid in request.oids]
        else:  # GETNEXT and GETBULK: rows without end, `max-repetitions` of them
            varbinds, oid = [], request.oids[0]
            column_arcs = len(oid)
            for _ in range(max(1, request.field_b)):
                oid = _next(oid, column_arcs)
                varbinds.append(_varbind(oid, encode_int(1)))
        pdu = response_pdu(request.request_id, 0, 0, varbinds)
        return tlv(SEQUENCE, encode_int(1) + tlv(OCTET_STRING, community) + pdu)


@pytest.fixture
async def peer(request: pytest.FixtureRequest) -> AsyncIterator[tuple[BrokenPeer, int]]:
    protocol = BrokenPeer(garbage=request.param == "garbage")
    transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
        lambda: protocol, local_addr=("127.0.0.1", 0)
    )
    try:
        yield protocol, transport.get_extra_info("sockname")[1]
    finally:
        transport.close()


def poller_for(port: int, backend: str, **device: Any) -> SnmpPoller:
    section = validate(SnmpSection, {
        "devices": [{"name": "broken", "host": f"127.0.0.1:{port}", "community": "c", "profile": "generic",
                     "backend": backend, "interval_s": 10, "timeout_s": 0.5, "retries": 0, **device}],
        "down_backoff_max_s": 80,
    })  # fmt: skip
    return SnmpPoller(section.devices[0], "lab", settings_for(section), asyncio.Semaphore(1))


async def requests_per_cycle(
    peer: BrokenPeer, poller: SnmpPoller, cycles: int
) -> list[tuple[int, dict[str, Any]]]:
    seen = []
    for _ in range(cycles):
        peer.requests = 0
        acc = Accumulator(SourceHealth())
        await poller.collect(acc)
        status = next(r.fields for r in acc.readings if r.measurement == "device_status")
        seen.append((peer.requests, dict(status)))
    await poller.close()
    return seen


@pytest.mark.parametrize("peer", ["endless"], indirect=True)
@pytest.mark.parametrize("backend", ["gufo", "pysnmp"])
async def test_endless_tables_are_cut_at_the_row_cap(peer: tuple[BrokenPeer, int], backend: str) -> None:
    protocol, port = peer
    seen = await requests_per_cycle(protocol, poller_for(port, backend, max_rows_per_table=60), 2)
    for requests, status in seen:
        assert status["up"] is True and status["tables_capped"] >= 1, status
        assert "cut at 60 rows" in status["error"]
        assert requests == status["requests"] < 150, seen  # was 400 GETBULKs per column, every poll


@pytest.mark.parametrize("peer", ["endless"], indirect=True)
async def test_a_poll_spends_at_most_its_budget_then_backs_off(peer: tuple[BrokenPeer, int]) -> None:
    protocol, port = peer
    seen = await requests_per_cycle(protocol, poller_for(port, "gufo"), 4)
    assert [requests for requests, _ in seen] == [
        MAX_REQUESTS_PER_POLL,
        MAX_REQUESTS_PER_POLL,
        0,
        MAX_REQUESTS_PER_POLL,
    ], seen
    assert all(status["up"] is False for _, status in seen)
    assert "request budget of 300 per poll spent" in seen[0][1]["error"]
    assert "(backing off)" in seen[2][1]["error"]


@pytest.mark.parametrize("peer", ["garbage"], indirect=True)
@pytest.mark.parametrize("backend", ["gufo", "pysnmp"])
async def test_undecodable_replies_are_a_down_device_backed_off(
    peer: tuple[BrokenPeer, int], backend: str
) -> None:
    protocol, port = peer
    seen = await requests_per_cycle(protocol, poller_for(port, backend), 7)
    assert all(status["up"] is False for _, status in seen)
    assert [requests for requests, _ in seen] == [1, 1, 0, 1, 0, 0, 0], seen
