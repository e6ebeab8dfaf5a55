"""Turns one MQTT message from a gateway into lines to store; pure, no I/O, so every case is testable.

The identity rule: every stored point carries the `gateway` tag of the topic it came on. A line with no
`gateway` tag gets the topic's; a line naming another gateway is set apart (dead-lettered, never stored
under either name), because it is either a misconfigured agent or one gateway posing as another.

Speed matters here (the bridge must keep up with InfluxDB): a line is checked by one regular expression
that accepts the common shape of line protocol and leaves the line as it came, untouched. Only a line
that does not fit it (escaped commas or backslashes in tags, no timestamp, bad syntax) goes through the
full parser of `edge_gateway.core.lineproto`, which either rewrites it or says what is wrong with it.

Every message is hostile until checked (docs/wire-format.md): its size is bounded before it is
decompressed or parsed (`edge_gateway.bridge.limits`), every number from the wire is range-checked, and the
fast
path only accepts lines without a reserved name and with numbers that surely fit 64 bits; anything
else is left to the slow path, which decides (`edge_gateway.bridge.reserved`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from edge_gateway.bridge.limits import LimitError, TooLarge, check_size, gunzip_bounded, wire_int
from edge_gateway.bridge.reserved import (
    NOT_RESERVED_FIELD,
    NOT_RESERVED_MEASUREMENT,
    NOT_RESERVED_TAG,
    check_reading,
)
from edge_gateway.core import wire
from edge_gateway.core.config import NAME_PATTERN
from edge_gateway.core.lineproto import LineProtocolError, encode, parse
from edge_gateway.core.model import Reading

GATEWAY = re.compile(NAME_PATTERN)
MAX_LINE_CHARS = 65_536  # a longer line is refused unparsed: the slow parser is pure Python
MAX_LINES = 1_000_000  # the largest `n` accepted; the byte limit binds long before
TIME_NS_MAX = 2**63 - 2  # InfluxDB's own bounds for a timestamp
INT_FIELD_MIN, INT_FIELD_MAX = -(2**63), 2**63 - 1


def _run(excluded: str) -> str:
    """Characters not in `excluded`, or backslash escapes; possessive, so a mismatch fails fast."""
    return rf"(?:[^{excluded}\\\n]++|\\.)++"


_NAME = _run(",= ")
_MEASUREMENT = _run(", ")
# Numbers that surely fit: 18-digit integers, floats below 1e300; anything else takes the slow path.
_NUMBER = r"-?+(?:\d{1,18}+[iu]|(?:\d{1,200}+(?:\.\d{0,99}+)?+|\.\d{1,99}+)(?:[eE][-+]?+\d{1,2}+)?+)"
_VALUE = rf'(?:"(?:[^"\\]++|\\.)*+"|{_NUMBER}|true|True|TRUE|[tT]|false|False|FALSE|[fF])'
_FIELD = rf"{NOT_RESERVED_FIELD}{_NAME}={_VALUE}"
_FIELDS = rf"{_FIELD}(?:,{_FIELD})*+"
_TIME = r"-?(?:\d{1,18}|[1-8]\d{18})"  # today's times have 19 digits; below 9e18 fits int64
LINE = re.compile(
    rf"{NOT_RESERVED_MEASUREMENT}{_MEASUREMENT}(?P<tags>(?:,{NOT_RESERVED_TAG}{_NAME}={_NAME}|,gateway={_NAME})*+)"
    rf" {_FIELDS} (?P<time>{_TIME})"
)
GATEWAY_TAG = re.compile(r",gateway=([^,]*)")


@functools.lru_cache(maxsize=4096)
def _lines_of(gateway: str) -> re.Pattern[str]:
    """Lines that are fine as they are for this gateway: well formed, with exactly its gateway tag.

    Matched over a whole message at once (the time of each line is captured), so a message from a
    well-behaved agent is checked without a Python loop over its lines.
    """
    other_tag = rf",{NOT_RESERVED_TAG}{_NAME}={_NAME}"
    return re.compile(
        rf"^{NOT_RESERVED_MEASUREMENT}{_MEASUREMENT}(?:{other_tag})*+,gateway={re.escape(gateway)}"
        rf"(?:{other_tag})*+ {_FIELDS} ({_TIME})$",
        re.MULTILINE,
    )


class MessageError(ValueError):
    """The message as a whole is unusable (topic, properties, encoding, line count, size).

    `reason` is the dead-letter reason: `too_large` or `malformed`.
    """

    def __init__(self, message: str, reason: str = "malformed") -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Decoded:
    gateway: str
    seq: int
    lines: list[str]
    bad_lines: list[tuple[str, str]]  # (line, reason)
    newest_time_ns: int


def gateway_of(topic: str) -> str | None:
    """The gateway id of a data topic, or None when the topic is not `edge/<valid id>/data`."""
    match = wire.DATA_TOPIC.match(topic)
    return match["gateway"] if match and GATEWAY.match(match["gateway"]) else None


def _slow_path(line: str, gateway: str) -> tuple[str, int]:
    """Parse and rewrite a line the fast path could not vouch for; raise LineProtocolError why not."""
    if len(line) > MAX_LINE_CHARS:
        raise LineProtocolError(f"line of {len(line)} characters is over the limit of {MAX_LINE_CHARS}")
    reading = parse(line, default_time_ns=-1)
    if reading.time_ns == -1:
        raise LineProtocolError("no timestamp (the wire format requires one)")
    if not -TIME_NS_MAX <= reading.time_ns <= TIME_NS_MAX:
        raise LineProtocolError(f"timestamp {reading.time_ns} is out of range")
    for key, value in reading.fields.items():
        if (
            isinstance(value, int)
            and not isinstance(value, bool)
            and not INT_FIELD_MIN <= value <= INT_FIELD_MAX
        ):
            raise LineProtocolError(f"integer field {key!r} is out of the 64-bit range")
    check_reading(reading)
    claimed = reading.tags.get("gateway", gateway)
    if claimed != gateway:
        raise LineProtocolError(f"gateway tag {claimed!r} is not the topic's {gateway!r}")
    encoded = encode(
        Reading(reading.measurement, {**reading.tags, "gateway": gateway}, reading.fields, reading.time_ns)
    )
    if encoded is None:
        raise LineProtocolError("no storable field")
    return encoded, reading.time_ns


def check_line(line: str, gateway: str) -> tuple[str, int]:
    """The line to store (stamped with the gateway) and its time; raise LineProtocolError if unusable."""
    match = LINE.fullmatch(line)
    if match is None:
        return _slow_path(line, gateway)
    tags = match["tags"]
    if "\\," in tags or "\\\\" in tags:
        return _slow_path(line, gateway)  # an escaped comma would hide where a tag starts
    claimed = GATEWAY_TAG.findall(tags)
    if not claimed:
        end = match.end("tags")
        line = f"{line[:end]},gateway={gateway}{line[end:]}"
    elif len(claimed) > 1:
        raise LineProtocolError("more than one gateway tag")
    elif claimed[0] != gateway:
        raise LineProtocolError(f"gateway tag {claimed[0]!r} is not the topic's {gateway!r}")
    return line, int(match["time"])


def decode_message(
    topic: str, payload: bytes, user_properties: dict[str, str], content_type: str, max_bytes: int
) -> Decoded:
    """Validate one batch; bad lines are returned apart, with the reason, never dropped silently.

    `max_bytes` bounds the message as received and, for gzip, as decompressed: checked before any
    parsing, so a hostile message costs at most that much memory and time.
    """
    gateway = gateway_of(topic)
    if gateway is None:
        raise MessageError(f"topic {topic[:200]!r} is not edge/<gateway>/data")
    version = user_properties.get(wire.PROP_VERSION)
    if version not in wire.SUPPORTED_VERSIONS:
        raise MessageError(f"wire format version {str(version)[:20]!r} not supported")
    try:
        check_size(payload, max_bytes, "message")
        seq = wire_int(user_properties.get(wire.PROP_SEQ), wire.PROP_SEQ)
        count = wire_int(user_properties.get(wire.PROP_COUNT), wire.PROP_COUNT, 0, MAX_LINES)
        if content_type == wire.CONTENT_TYPE_GZIP:
            payload = gunzip_bounded(payload, max_bytes)
    except TooLarge as exc:
        raise MessageError(str(exc), "too_large") from exc
    except LimitError as exc:
        raise MessageError(str(exc)) from exc
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MessageError(f"payload is not UTF-8: {exc}") from exc
    fast = _as_they_are(text, gateway, count)
    if fast is not None:
        return Decoded(gateway, seq, fast[0], [], fast[1])
    raw_lines = [line for line in text.split("\n") if line.strip()]
    if len(raw_lines) != count:
        raise MessageError(f"property n={count} but the payload has {len(raw_lines)} lines")
    lines: list[str] = []
    bad: list[tuple[str, str]] = []
    newest_ns = 0
    for raw in raw_lines:
        try:
            line, time_ns = check_line(raw.rstrip("\r"), gateway)
        except LineProtocolError as exc:
            bad.append((raw, str(exc)))
            continue
        lines.append(line)
        newest_ns = max(newest_ns, time_ns)
    return Decoded(gateway, seq, lines, bad, newest_ns)


def _as_they_are(text: str, gateway: str, count: int) -> tuple[list[str], int] | None:
    """The lines and their newest time when all `count` lines can be stored untouched, else None."""
    times = _lines_of(gateway).findall(text)
    if len(times) != count:
        return None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return (lines, max(map(int, times), default=0)) if len(lines) == count else None
