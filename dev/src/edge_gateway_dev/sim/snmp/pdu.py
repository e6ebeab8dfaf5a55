"""GET, GETNEXT and GETBULK over a MibView, with the table faults a buggy firmware shows.

Semantics follow RFC 3416: GET answers noSuchObject when no object has that name and noSuchInstance
when the object exists but not that instance; GETNEXT past the last OID answers endOfMibView; GETBULK
stops early once every repeater reached endOfMibView, and trims repetitions to fit the size limit; a
reply that cannot hold even one row is tooBig, as net-snmp answers (an empty one would end a walk).
"""

from __future__ import annotations

from dataclasses import dataclass

from edge_gateway_dev.sim.snmp.ber import (
    END_OF_MIB_VIEW,
    GET,
    GET_BULK,
    GET_NEXT,
    NO_SUCH_INSTANCE,
    NO_SUCH_OBJECT,
    OBJECT_ID,
    RESPONSE,
    SEQUENCE,
    SET,
    BerError,
    Oid,
    decode_oid,
    encode_int,
    encode_oid,
    expect,
    read_int,
    read_tlv,
    tlv,
)
from edge_gateway_dev.sim.snmp.view import MibView

TOO_BIG = 1
NOT_WRITABLE = 17
_PDU_OVERHEAD_BYTES = 40
_REQUEST_TAGS = (GET, GET_NEXT, GET_BULK, SET)


@dataclass(frozen=True, slots=True)
class TableFaults:
    """The faults that change what a walk sees, resolved against one view."""

    truncate_prefix: Oid | None = None
    truncate_rows: int = 0
    non_increasing_prefix: Oid | None = None
    too_big_varbinds: int | None = None


@dataclass(frozen=True, slots=True)
class Request:
    """A decoded request PDU."""

    tag: int
    request_id: int
    field_a: int
    field_b: int
    oids: list[Oid]


def decode_pdu(buf: bytes, pos: int, end: int) -> Request:
    tag, start, stop = read_tlv(buf, pos, end)
    if tag not in _REQUEST_TAGS:
        raise BerError(f"not a request PDU: {tag:#x}")
    request_id, p = read_int(buf, start, stop)
    field_a, p = read_int(buf, p, stop)
    field_b, p = read_int(buf, p, stop)
    list_start, list_stop = expect(buf, p, stop, SEQUENCE)
    oids = []
    p = list_start
    while p < list_stop:
        vb_start, vb_stop = expect(buf, p, list_stop, SEQUENCE)
        oid_start, oid_stop = expect(buf, vb_start, vb_stop, OBJECT_ID)
        oids.append(decode_oid(buf, oid_start, oid_stop))
        p = vb_stop
    return Request(tag, request_id, field_a, field_b, oids)


def _under(oid: Oid, prefix: Oid | None) -> bool:
    return prefix is not None and oid[: len(prefix)] == prefix


def next_index(view: MibView, oid: Oid, faults: TableFaults) -> int | None:
    """Index of the OID a GETNEXT on `oid` returns, or None for endOfMibView."""
    index = view.next_index(oid)
    if index >= len(view):
        return None
    found = view.oids[index]
    if _under(found, faults.truncate_prefix):
        assert faults.truncate_prefix is not None
        first = view.next_index(faults.truncate_prefix)
        if index - first >= faults.truncate_rows:
            return None
    if _under(found, faults.non_increasing_prefix) and index > 0:
        assert faults.non_increasing_prefix is not None
        if index > view.next_index(faults.non_increasing_prefix):
            return index - 1
    return index


def _exception(oid: Oid, tag: int) -> bytes:
    return tlv(SEQUENCE, encode_oid(oid) + bytes((tag, 0)))


def _get(view: MibView, oid: Oid) -> bytes:
    index = view.index_of(oid)
    if index is not None:
        return view.varbind(index)
    exists = len(oid) > 1 and view.has_prefix(oid[:-1])
    return _exception(oid, NO_SUCH_INSTANCE if exists else NO_SUCH_OBJECT)


def _next(view: MibView, oid: Oid, faults: TableFaults) -> tuple[bytes, Oid | None]:
    index = next_index(view, oid, faults)
    if index is None:
        return _exception(oid, END_OF_MIB_VIEW), None
    return view.varbind(index), view.oids[index]


def response_pdu(request_id: int, error_status: int, error_index: int, varbinds: list[bytes]) -> bytes:
    body = encode_int(request_id) + encode_int(error_status) + encode_int(error_index)
    return tlv(RESPONSE, body + tlv(SEQUENCE, b"".join(varbinds)))


def answer(
    view: MibView,
    pdu_tag: int,
    request_id: int,
    field_a: int,
    field_b: int,
    oids: list[Oid],
    faults: TableFaults,
    max_bytes: int,
) -> bytes:
    """The Response-PDU for a request; `field_a`/`field_b` are non-repeaters/max-repetitions for GETBULK."""
    budget = max_bytes - _PDU_OVERHEAD_BYTES
    if pdu_tag == GET_BULK:
        return _bulk(view, request_id, max(0, field_a), max(0, field_b), oids, faults, budget)
    if pdu_tag == GET:
        varbinds = [_get(view, oid) for oid in oids]
    elif pdu_tag == GET_NEXT:
        varbinds = [_next(view, oid, faults)[0] for oid in oids]
    else:  # SET and anything else: this firmware is read-only
        return response_pdu(
            request_id, NOT_WRITABLE if oids else 0, 1 if oids else 0, [_get(view, o) for o in oids]
        )
    if sum(map(len, varbinds)) > budget:
        return response_pdu(request_id, TOO_BIG, 0, [])
    return response_pdu(request_id, 0, 0, varbinds)


def _bulk(
    view: MibView,
    request_id: int,
    non_repeaters: int,
    max_repetitions: int,
    oids: list[Oid],
    faults: TableFaults,
    budget: int,
) -> bytes:
    non_repeaters = min(non_repeaters, len(oids))
    repeaters = oids[non_repeaters:]
    limit = faults.too_big_varbinds
    if limit is not None and non_repeaters + max_repetitions * len(repeaters) > limit:
        return response_pdu(request_id, TOO_BIG, 0, [])
    varbinds = [_next(view, oid, faults)[0] for oid in oids[:non_repeaters]]
    size = sum(map(len, varbinds))
    if size > budget:
        return response_pdu(request_id, TOO_BIG, 0, [])
    cursor: list[Oid | None] = list(repeaters)
    for _ in range(max_repetitions if repeaters else 0):
        row: list[bytes] = []
        for position, oid in enumerate(cursor):
            if oid is None:  # stays at endOfMibView, naming the last OID it had
                row.append(_exception(repeaters[position], END_OF_MIB_VIEW))
                continue
            encoded, nxt = _next(view, oid, faults)
            row.append(encoded)
            if nxt is None:
                repeaters[position] = oid
            cursor[position] = nxt
        row_bytes = sum(map(len, row))
        if size + row_bytes > budget:
            break
        varbinds += row
        size += row_bytes
        if all(oid is None for oid in cursor):
            break
    if repeaters and max_repetitions and len(varbinds) == non_repeaters:
        return response_pdu(request_id, TOO_BIG, 0, [])
    return response_pdu(request_id, 0, 0, varbinds)
