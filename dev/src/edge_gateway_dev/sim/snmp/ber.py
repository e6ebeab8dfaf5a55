"""The slice of BER (X.690) that SNMP uses, written for speed rather than generality.

An agent spends most of its time encoding the same few shapes (INTEGER, OCTET STRING, OID, the SNMP
application types) and decoding short requests, so both sides are plain functions over bytes with no
object per TLV. Decoding returns absolute offsets into the original datagram: USM must zero the
authentication parameters in place to verify an HMAC, so it needs to know where they sit.
"""

from __future__ import annotations

INTEGER = 0x02
OCTET_STRING = 0x04
NULL = 0x05
OBJECT_ID = 0x06
SEQUENCE = 0x30
IP_ADDRESS = 0x40
COUNTER32 = 0x41
GAUGE32 = 0x42
TIMETICKS = 0x43
COUNTER64 = 0x46
NO_SUCH_OBJECT = 0x80
NO_SUCH_INSTANCE = 0x81
END_OF_MIB_VIEW = 0x82

GET = 0xA0
GET_NEXT = 0xA1
RESPONSE = 0xA2
SET = 0xA3
GET_BULK = 0xA5
REPORT = 0xA8

Oid = tuple[int, ...]


class BerError(ValueError):
    """A datagram that is not the BER an SNMP agent expects; real agents count it and drop it."""


def encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes((length,))
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def tlv(tag: int, body: bytes) -> bytes:
    length = len(body)
    if length < 0x80:
        return bytes((tag, length)) + body
    return bytes((tag,)) + encode_length(length) + body


def encode_int(value: int, tag: int = INTEGER) -> bytes:
    """Two's-complement INTEGER in the fewest octets."""
    magnitude = value if value >= 0 else ~value
    return tlv(tag, value.to_bytes((magnitude.bit_length() + 8) // 8, "big", signed=True))


def encode_unsigned(tag: int, value: int) -> bytes:
    """Counter32/Gauge32/TimeTicks/Counter64: unsigned, so a leading zero when the high bit is set."""
    body = value.to_bytes(value.bit_length() // 8 + 1, "big")
    return tlv(tag, body)


def encode_oid(oid: Oid) -> bytes:
    if len(oid) < 2:
        raise BerError(f"OID needs two arcs: {oid}")
    out = bytearray()
    for arc in (40 * oid[0] + oid[1], *oid[2:]):
        if arc < 0x80:
            out.append(arc)
            continue
        chunk = bytearray((arc & 0x7F,))
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        chunk.reverse()
        out += chunk
    return tlv(OBJECT_ID, bytes(out))


def encode_value(tag: int, value: object) -> bytes:
    """Encode one varbind value given its BER tag; the value's Python type follows the tag."""
    if tag == INTEGER:
        assert isinstance(value, int)
        return encode_int(value)
    if tag in (OCTET_STRING, IP_ADDRESS):
        assert isinstance(value, bytes)
        return tlv(tag, value)
    if tag in (COUNTER32, GAUGE32, TIMETICKS, COUNTER64):
        assert isinstance(value, int)
        return encode_unsigned(tag, value)
    if tag == OBJECT_ID:
        assert isinstance(value, tuple)
        return encode_oid(value)
    return bytes((tag, 0))


def read_tlv(buf: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """Return (tag, body start, body end) of the TLV at `pos`, checking it fits before `end`."""
    if pos + 2 > end:
        raise BerError("truncated TLV header")
    tag = buf[pos]
    length = buf[pos + 1]
    pos += 2
    if length & 0x80:
        n_octets = length & 0x7F
        if n_octets == 0 or n_octets > 4 or pos + n_octets > end:
            raise BerError("bad length")
        length = int.from_bytes(buf[pos : pos + n_octets], "big")
        pos += n_octets
    if pos + length > end:
        raise BerError("TLV longer than its container")
    return tag, pos, pos + length


def expect(buf: bytes, pos: int, end: int, tag: int) -> tuple[int, int]:
    got, start, stop = read_tlv(buf, pos, end)
    if got != tag:
        raise BerError(f"expected tag {tag:#x}, got {got:#x}")
    return start, stop


def decode_int(buf: bytes, start: int, stop: int) -> int:
    if stop == start:
        raise BerError("empty INTEGER")
    return int.from_bytes(buf[start:stop], "big", signed=True)


def decode_oid(buf: bytes, start: int, stop: int) -> Oid:
    if stop == start:
        raise BerError("empty OID")
    arcs: list[int] = []
    value = 0
    for octet in buf[start:stop]:
        value = (value << 7) | (octet & 0x7F)
        if not octet & 0x80:
            arcs.append(value)
            value = 0
    first = arcs[0]
    head = (first // 40, first % 40) if first < 80 else (2, first - 80)
    return (*head, *arcs[1:])


def read_int(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    """Decode the INTEGER at `pos`; return it and the position after it."""
    start, stop = expect(buf, pos, end, INTEGER)
    return decode_int(buf, start, stop), stop


def read_octets(buf: bytes, pos: int, end: int) -> tuple[bytes, int]:
    start, stop = expect(buf, pos, end, OCTET_STRING)
    return bytes(buf[start:stop]), stop


def decode_value(buf: bytes, start: int, stop: int, tag: int) -> object:
    """Inverse of `encode_value` for the tags an agent serves (used by tests and ground truth)."""
    if tag == INTEGER:
        return decode_int(buf, start, stop)
    if tag in (COUNTER32, GAUGE32, TIMETICKS, COUNTER64):
        return int.from_bytes(buf[start:stop], "big")
    if tag == OBJECT_ID:
        return decode_oid(buf, start, stop)
    if tag in (OCTET_STRING, IP_ADDRESS):
        return bytes(buf[start:stop])
    return None


def parse_oid(text: str) -> Oid:
    return tuple(int(arc) for arc in text.strip(".").split("."))


def format_oid(oid: Oid) -> str:
    return ".".join(map(str, oid))
