"""The bridge's own knowledge of field types: (measurement, field) -> type, to refuse a conflict early.

InfluxDB fixes a field's type with its first point (per shard) and refuses every later point that
disagrees, without saying which lines of a request were at fault. Finding them by bisection costs
about 2·log2(n) requests per bad line: 5000 bad lines once cost 10 054 requests and slowed every
other gateway. So the bridge remembers each type it learns, from InfluxDB's own conflict errors
(`input field "x" on measurement "m" is type string, already exists as type integer`) and from
the lines it wrote successfully, and checks lines against it *before* writing them again.

A line is only parsed here when something is wrong (a refused write, or a gateway under watch for
having sent a conflict): a well-behaved fleet never pays for it.
"""

from __future__ import annotations

import re

from edge_gateway.core.lineproto import LineProtocolError, parse

MAX_ENTRIES = 100_000  # beyond this many fields the cache stops learning (a hostile gateway's names)
# InfluxDB 1.x answers in JSON, so its quotes arrive escaped (`\"`); other servers may not escape them.
CONFLICT = re.compile(
    r'input field \\?"(?P<field>[^"\\]*)\\?" on measurement \\?"(?P<measurement>[^"\\]*)\\?" '
    r"is type \w+, already exists as type (?P<type>\w+)"
)
GATEWAY_TAG = re.compile(r"(?<!\\),gateway=((?:[^,\\ ]|\\.)+)")


def field_type(value: object) -> str:
    """The InfluxDB name of a parsed field value's type."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    return "string"


def gateway_of_line(line: str) -> str:
    """The `gateway` tag the bridge stamped on a line ("" if somehow none)."""
    match = GATEWAY_TAG.search(line.partition(" ")[0])
    return match[1] if match else ""


class FieldTypes:
    def __init__(self) -> None:
        self.known: dict[tuple[str, str], str] = {}

    def learn_from_error(self, text: str) -> bool:
        """Remember the existing types an InfluxDB conflict error names; True if any was new."""
        new = False
        for match in CONFLICT.finditer(text):
            key = (match["measurement"], match["field"])
            if self.known.get(key) != match["type"] and len(self.known) < MAX_ENTRIES:
                self.known[key] = match["type"]
                new = True
        return new

    def learn(self, lines: list[str]) -> None:
        """Remember the types of lines InfluxDB just accepted (first type seen wins)."""
        for line in lines:
            try:
                reading = parse(line)
            except LineProtocolError:
                continue
            for name, value in reading.fields.items():
                if len(self.known) >= MAX_ENTRIES:
                    return
                self.known.setdefault((reading.measurement, name), field_type(value))

    def conflict(self, line: str) -> str | None:
        """Why the line's types disagree with what InfluxDB holds, or None when they do not (or unknown)."""
        try:
            reading = parse(line)
        except LineProtocolError:
            return None  # the database decides
        for name, value in reading.fields.items():
            known = self.known.get((reading.measurement, name))
            if known is not None and known != field_type(value):
                return (
                    f"field type conflict: field {name!r} on measurement {reading.measurement!r} "
                    f"is {field_type(value)}, InfluxDB holds {known} (known to the bridge, not written)"
                )
        return None
