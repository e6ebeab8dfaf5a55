"""InfluxDB line protocol: encode Readings for the buffer and the wire, parse them back in the bridge.

    measurement[,tag=value...] field=value[,field=value...] [time_ns]

Escapes: in the measurement, commas and spaces; in tag keys, tag values and field keys, commas, equals
signs and spaces; in string field values, double quotes and backslashes. Line protocol has no escape
for a newline, so newlines in names and strings are replaced by spaces on encode. Integers carry an
`i` suffix, so that InfluxDB never types a field as float in one point and integer in the next.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from edge_gateway.core.model import FieldValue, Reading


class LineProtocolError(ValueError):
    """A line that is not valid line protocol; the message says where and why."""


_MEASUREMENT_ESC = str.maketrans({",": r"\,", " ": r"\ ", "\n": r"\ ", "\r": r"\ ", "\\": "/"})
_KEY_ESC = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\n": r"\ ", "\r": r"\ ", "\\": "/"})
_STR_ESC = str.maketrans({'"': r"\"", "\\": "\\\\", "\n": " ", "\r": " "})


def _field_value(value: FieldValue) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    return '"' + value.translate(_STR_ESC) + '"'


def encode(reading: Reading) -> str | None:
    """One line without a newline, or None when the reading has no representable field (NaN, inf)."""
    fields = []
    for key, value in reading.fields.items():
        text = _field_value(value)
        if text is not None:
            fields.append(f"{key.translate(_KEY_ESC)}={text}")
    if not fields:
        return None
    head = reading.measurement.translate(_MEASUREMENT_ESC)
    for key in sorted(reading.tags):
        value = reading.tags[key]
        if value:  # line protocol has no empty tag values; an empty tag is the same as no tag
            head += f",{key.translate(_KEY_ESC)}={value.translate(_KEY_ESC)}"
    return f"{head} {','.join(fields)} {reading.time_ns}"


def encode_many(readings: Iterable[Reading]) -> list[str]:
    """Encoded lines of the readings that have at least one representable field."""
    return [line for line in map(encode, readings) if line is not None]


def _scan(text: str, start: int, stops: str) -> int:
    """Index of the first unescaped character of `stops` at or after `start`, or len(text)."""
    i = start
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char in stops:
            return i
        i += 1
    return len(text)


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in ',= "\\':
            out.append(text[i + 1])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _parse_value(raw: str) -> FieldValue:
    if raw.startswith('"'):
        if len(raw) < 2 or not raw.endswith('"'):
            raise LineProtocolError(f"unterminated string field value {raw!r}")
        return _unescape(raw[1:-1])
    if raw in ("t", "T", "true", "True", "TRUE"):
        return True
    if raw in ("f", "F", "false", "False", "FALSE"):
        return False
    if raw[-1:] in ("i", "u"):
        try:
            return int(raw[:-1])
        except ValueError:
            raise LineProtocolError(f"bad integer field value {raw!r}") from None
    try:
        value = float(raw)
    except ValueError:
        raise LineProtocolError(f"bad field value {raw!r}") from None
    if not math.isfinite(value):
        raise LineProtocolError(f"non-finite field value {raw!r}")
    return value


def _parse_fields(line: str, start: int) -> tuple[dict[str, FieldValue], int]:
    """The field set starting at `start`, and the index just past it (a space or the end)."""
    fields: dict[str, FieldValue] = {}
    pos = start
    while True:
        eq = _scan(line, pos, "= ,")
        if eq >= len(line) or line[eq] != "=" or eq == pos:
            raise LineProtocolError(f"bad field at column {pos + 1}: {line[pos : eq + 1]!r}")
        key = _unescape(line[pos:eq])
        value_start = eq + 1
        if line.startswith('"', value_start):
            value_end = _scan(line, value_start + 1, '"')
            if value_end >= len(line):
                raise LineProtocolError(f"unterminated string value of field {key!r}")
            value_end += 1
        else:
            value_end = _scan(line, value_start, ", ")
        if value_end == value_start:
            raise LineProtocolError(f"field {key!r} has no value")
        fields[key] = _parse_value(line[value_start:value_end])
        if value_end >= len(line) or line[value_end] == " ":
            return fields, value_end
        pos = value_end + 1


def parse(line: str, default_time_ns: int = 0) -> Reading:
    """Parse one line; raise LineProtocolError naming what is wrong."""
    key_end = _scan(line, 0, " ")
    if key_end >= len(line):
        raise LineProtocolError("no field set")
    key = line[:key_end]
    name_end = _scan(key, 0, ",")
    measurement = _unescape(key[:name_end])
    if not measurement:
        raise LineProtocolError("empty measurement")
    tags: dict[str, str] = {}
    pos = name_end + 1
    while pos <= len(key) and name_end < len(key):
        end = _scan(key, pos, ",")
        pair = key[pos:end]
        eq = _scan(pair, 0, "=")
        if eq >= len(pair) or eq == 0 or eq == len(pair) - 1:
            raise LineProtocolError(f"bad tag {pair!r}")
        tags[_unescape(pair[:eq])] = _unescape(pair[eq + 1 :])
        pos = end + 1
    fields, fields_end = _parse_fields(line, key_end + 1)
    time_ns = default_time_ns
    rest = line[fields_end + 1 :].strip()
    if rest:
        try:
            time_ns = int(rest)
        except ValueError:
            raise LineProtocolError(f"bad timestamp {rest!r}") from None
    return Reading(measurement, tags, fields, time_ns)
