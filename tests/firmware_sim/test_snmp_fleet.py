"""The fleet API (specs, start/stop, faults text) and the PDU engine, without external tools."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from edge_gateway_dev.sim.snmp import Faults, FaultSpecError, make_fleet_specs, parse_faults, run_fleet
from edge_gateway_dev.sim.snmp.ber import (
    COUNTER32,
    END_OF_MIB_VIEW,
    GET_BULK,
    GET_NEXT,
    INTEGER,
    OCTET_STRING,
    SEQUENCE,
    encode_int,
    encode_oid,
    expect,
    read_int,
    read_octets,
    read_tlv,
    tlv,
)
from edge_gateway_dev.sim.snmp.pdu import TableFaults, answer
from edge_gateway_dev.sim.snmp.view import MibView


def test_fleet_mix_is_deterministic_and_near_the_shares() -> None:
    specs = make_fleet_specs(50, seed=7)
    assert [s.name for s in specs] == [s.name for s in make_fleet_specs(50, seed=7)]
    assert [s.vendor for s in specs] == [s.vendor for s in make_fleet_specs(50, seed=7)]
    assert [s.vendor for s in specs] != [s.vendor for s in make_fleet_specs(50, seed=8)]
    counts = Counter(s.vendor for s in specs)
    assert counts["mikrotik"] == 25 and counts["unifi"] == 10
    assert {counts["airmax"], counts["generic"]} == {7, 8}
    v3 = [s for s in specs if s.v3 is not None]
    assert len(v3) == 12 and all(s.community is None for s in v3)
    assert {s.v3.level for s in v3 if s.v3} == {"authPriv", "authNoPriv"}
    assert len({s.name for s in specs}) == 50 and len({s.seed for s in specs}) == 50


def test_fault_text_round_trip_and_errors() -> None:
    faults = parse_faults("delay_ms=250, truncate_rows=3, non_increasing, flap_period_s=30")
    assert faults == Faults(delay_ms=250, truncate_rows=3, non_increasing=True, flap_period_s=30.0)
    faults.update("clear,no_reply")
    assert faults == Faults(no_reply=True)
    with pytest.raises(FaultSpecError):
        parse_faults("explode")
    with pytest.raises(FaultSpecError):
        parse_faults("delay_ms=soon")


def _v2c_request(community: bytes, pdu_tag: int, oid: tuple[int, ...], a: int = 0, b: int = 0) -> bytes:
    varbind = tlv(SEQUENCE, encode_oid(oid) + b"\x05\x00")
    pdu = tlv(pdu_tag, encode_int(42) + encode_int(a) + encode_int(b) + tlv(SEQUENCE, varbind))
    return tlv(SEQUENCE, encode_int(1) + tlv(OCTET_STRING, community) + pdu)


async def test_fleet_binds_loopback_free_ports_and_answers_udp() -> None:
    specs = make_fleet_specs(6, seed=2)
    for spec in specs:
        spec.community, spec.v3 = "public", None
    async with run_fleet(specs) as aps:
        assert len({ap.port for ap in aps}) == 6 and {ap.host for ap in aps} == {"127.0.0.1"}
        loop = asyncio.get_running_loop()
        replies: asyncio.Queue[bytes] = asyncio.Queue()

        class Client(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: object) -> None:
                replies.put_nowait(data)

        transport, _ = await loop.create_datagram_endpoint(Client, local_addr=("127.0.0.1", 0))
        try:
            transport.sendto(
                _v2c_request(b"public", GET_NEXT, (1, 3, 6, 1, 2, 1, 1, 4, 0)), (aps[0].host, aps[0].port)
            )
            reply = await asyncio.wait_for(replies.get(), 2.0)
        finally:
            transport.close()
    start, stop = expect(reply, 0, len(reply), SEQUENCE)
    version, pos = read_int(reply, start, stop)
    community, pos = read_octets(reply, pos, stop)
    assert (version, community) == (1, b"public")
    assert aps[0].name.encode() in reply  # GETNEXT after sysContact is sysName
    assert aps[0].stats.by_pdu == {"getnext": 1}


VIEW = MibView(
    [
        ((1, 3, 6, 1, 9, 1, 0), INTEGER, 7),
        ((1, 3, 6, 1, 9, 2, 1, 1), COUNTER32, 10),
        ((1, 3, 6, 1, 9, 2, 1, 2), COUNTER32, 20),
        ((1, 3, 6, 1, 9, 2, 1, 3), COUNTER32, 30),
    ]
)


def _varbind_tags(pdu: bytes) -> tuple[int, list[int]]:
    """(error-status, [value tag of each varbind]) of a Response-PDU."""
    _, start, stop = read_tlv(pdu, 0, len(pdu))
    _, pos = read_int(pdu, start, stop)
    error, pos = read_int(pdu, pos, stop)
    _, pos = read_int(pdu, pos, stop)
    list_start, list_stop = expect(pdu, pos, stop, SEQUENCE)
    tags = []
    while list_start < list_stop:
        vb_start, vb_stop = expect(pdu, list_start, list_stop, SEQUENCE)
        _, _, oid_stop = read_tlv(pdu, vb_start, vb_stop)
        tags.append(pdu[oid_stop])
        list_start = vb_stop
    return error, tags


def test_getbulk_stops_at_end_of_mib_view_and_honours_non_repeaters() -> None:
    pdu = answer(VIEW, GET_BULK, 1, 1, 10, [(1, 3, 6, 1, 9), (1, 3, 6, 1, 9, 2)], TableFaults(), 1500)
    error, tags = _varbind_tags(pdu)
    assert error == 0
    # one non-repeater, then the 3 rows, then one endOfMibView and stop
    assert tags == [INTEGER, COUNTER32, COUNTER32, COUNTER32, END_OF_MIB_VIEW]


def test_getbulk_is_trimmed_to_the_size_limit() -> None:
    pdu = answer(VIEW, GET_BULK, 1, 0, 10, [(1, 3, 6, 1, 9)], TableFaults(), 75)
    _, tags = _varbind_tags(pdu)
    assert 0 < len(tags) < 4


def test_truncate_and_non_increasing_table_faults() -> None:
    table = (1, 3, 6, 1, 9, 2, 1)
    cut = TableFaults(truncate_prefix=table, truncate_rows=1)
    assert _varbind_tags(answer(VIEW, GET_NEXT, 1, 0, 0, [(1, 3, 6, 1, 9, 2, 1, 1)], cut, 1500))[1] == [
        END_OF_MIB_VIEW
    ]
    bad = TableFaults(non_increasing_prefix=table)
    pdu = answer(VIEW, GET_NEXT, 1, 0, 0, [(1, 3, 6, 1, 9, 2, 1, 1)], bad, 1500)
    assert encode_oid((1, 3, 6, 1, 9, 2, 1, 1)) in pdu and encode_oid((1, 3, 6, 1, 9, 2, 1, 2)) not in pdu
    too_big = TableFaults(too_big_varbinds=3)
    assert _varbind_tags(answer(VIEW, GET_BULK, 1, 0, 10, [(1, 3, 6, 1, 9)], too_big, 1500)) == (1, [])
