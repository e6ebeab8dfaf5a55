"""One AP's MIB at one second: a sorted OID index, searched with bisect.

A walk of a few hundred OIDs arrives as dozens of GETBULKs within the same second, so the agent builds
the view once per second and encodes each varbind at most once (`varbind`), then answers every request
of that walk by slicing. A view is immutable; the next second gets a new one.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from functools import lru_cache

from edge_gateway_dev.sim.snmp.ber import Oid, encode_oid, encode_value, format_oid, tlv

TYPE_NAMES = {
    0x02: "INTEGER",
    0x04: "OCTET STRING",
    0x06: "OBJECT IDENTIFIER",
    0x40: "IpAddress",
    0x41: "Counter32",
    0x42: "Gauge32",
    0x43: "TimeTicks",
    0x46: "Counter64",
}

Entry = tuple[Oid, int, object]  # (oid, BER tag, value)

# OIDs repeat from one second's view to the next (only values change), so their encodings are shared.
_encoded_oid = lru_cache(maxsize=1 << 17)(encode_oid)


class MibView:
    def __init__(self, entries: Iterable[Entry]) -> None:
        ordered = sorted(entries, key=lambda entry: entry[0])
        self.oids: list[Oid] = [entry[0] for entry in ordered]
        self.tags: list[int] = [entry[1] for entry in ordered]
        self.values: list[object] = [entry[2] for entry in ordered]
        self._encoded: list[bytes | None] = [None] * len(ordered)
        for before, after in zip(self.oids, self.oids[1:], strict=False):
            if before == after:
                raise ValueError(f"duplicate OID {format_oid(before)}")

    def __len__(self) -> int:
        return len(self.oids)

    def index_of(self, oid: Oid) -> int | None:
        index = bisect_left(self.oids, oid)
        return index if index < len(self.oids) and self.oids[index] == oid else None

    def next_index(self, oid: Oid) -> int:
        """Position of the first OID strictly after `oid` (== len(self) at the end of the MIB)."""
        return bisect_right(self.oids, oid)

    def has_prefix(self, prefix: Oid) -> bool:
        index = bisect_left(self.oids, prefix)
        return index < len(self.oids) and self.oids[index][: len(prefix)] == prefix

    def varbind(self, index: int) -> bytes:
        encoded = self._encoded[index]
        if encoded is None:
            value = encode_value(self.tags[index], self.values[index])
            encoded = tlv(0x30, _encoded_oid(self.oids[index]) + value)
            self._encoded[index] = encoded
        return encoded

    def subtree(self, prefix: Oid) -> list[Entry]:
        start = bisect_left(self.oids, prefix)
        out = []
        for index in range(start, len(self.oids)):
            if self.oids[index][: len(prefix)] != prefix:
                break
            out.append((self.oids[index], self.tags[index], self.values[index]))
        return out

    def as_dict(self) -> dict[str, tuple[str, object]]:
        """Every OID as dotted text -> (SNMP type name, value): the ground truth of this second."""
        return {
            format_oid(oid): (TYPE_NAMES.get(tag, hex(tag)), value)
            for oid, tag, value in zip(self.oids, self.tags, self.values, strict=True)
        }
