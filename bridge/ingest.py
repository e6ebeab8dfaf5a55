"""Turns one MQTT message from a gateway into lines to store; pure, no I/O, so every case is testable.

The identity rule: every stored point carries the `gateway` tag of the topic it came on. A line with no
`gateway` tag gets the topic's; a line naming another gateway is set apart (dead-lettered, never stored
under either name), because it is either a misconfigured agent or one gateway posing as another.

Speed matters here (the bridge must keep up with InfluxDB): a line is checked by one regular expression
that accepts the common shape of line protocol and leaves the line as it came, untouched. Only a line
that does not fit it (escaped commas or backslashes in tags, no timestamp, bad syntax) goes through the
full parser of `edge.lineproto`, which either rewrites it or says what is wrong with it.
"""

from __future__ import annotations

import functools
import gzip
import re
from dataclasses import dataclass

from edge.config import NAME_PATTERN
from edge.lineproto import LineProtocolError, encode, parse
from edge.model import Reading

TOPIC = re.compile(r"^edge/(?P<gateway>[^/]+)/data$")
GATEWAY = re.compile(NAME_PATTERN)
SUPPORTED_VERSIONS = frozenset({"1"})
CONTENT_TYPE_GZIP = "application/gzip"


def _run(excluded: str) -> str:
    """Characters not in `excluded`, or backslash escapes; possessive, so a mismatch fails fast."""
    return rf"(?:[^{excluded}\\\n]++|\\.)++"


_NAME = _run(",= ")
_MEASUREMENT = _run(", ")
_NUMBER = r"[-+]?+(?:\d++[iu]|(?:\d++(?:\.\d*+)?+|\.\d++)(?:[eE][-+]?+\d++)?+)"
_VALUE = rf'(?:"(?:[^"\\]++|\\.)*+"|{_NUMBER}|true|True|TRUE|[tT]|false|False|FALSE|[fF])'
_FIELDS = rf"{_NAME}={_VALUE}(?:,{_NAME}={_VALUE})*+"
LINE = re.compile(rf"{_MEASUREMENT}(?P<tags>(?:,{_NAME}={_NAME})*+) {_FIELDS} (?P<time>-?\d{{1,19}})")
GATEWAY_TAG = re.compile(r",gateway=([^,]*)")


@functools.lru_cache(maxsize=4096)
def _lines_of(gateway: str) -> re.Pattern[str]:
    """Lines that are fine as they are for this gateway: well formed, with exactly its gateway tag.

    Matched over a whole message at once (the time of each line is captured), so a message from a
    well-behaved agent is checked without a Python loop over its lines.
    """
    other_tag = rf",(?!gateway=){_NAME}={_NAME}"
    return re.compile(
        rf"^{_MEASUREMENT}(?:{other_tag})*+,gateway={re.escape(gateway)}(?:{other_tag})*+ {_FIELDS} "
        r"(-?\d{1,19})$",
        re.MULTILINE,
    )


class MessageError(ValueError):
    """The message as a whole is unusable (topic, properties, encoding, line count)."""


@dataclass(frozen=True)
class Decoded:
    gateway: str
    seq: int
    lines: list[str]
    bad_lines: list[tuple[str, str]]  # (line, reason)
    newest_time_ns: int


def gateway_of(topic: str) -> str | None:
    """The gateway id of a data topic, or None when the topic is not `edge/<valid id>/data`."""
    match = TOPIC.match(topic)
    return match["gateway"] if match and GATEWAY.match(match["gateway"]) else None


def _slow_path(line: str, gateway: str) -> tuple[str, int]:
    """Parse and rewrite a line the fast path could not vouch for; raise LineProtocolError why not."""
    reading = parse(line, default_time_ns=-1)
    if reading.time_ns == -1:
        raise LineProtocolError("no timestamp (the wire format requires one)")
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


def decode_message(topic: str, payload: bytes, user_properties: dict[str, str], content_type: str) -> Decoded:
    """Validate one batch; bad lines are returned apart, with the reason, never dropped silently."""
    gateway = gateway_of(topic)
    if gateway is None:
        raise MessageError(f"topic {topic!r} is not edge/<gateway>/data")
    if user_properties.get("v") not in SUPPORTED_VERSIONS:
        raise MessageError(f"wire format version {user_properties.get('v')!r} not supported")
    try:
        seq = int(user_properties["seq"])
        count = int(user_properties["n"])
    except (KeyError, ValueError) as exc:
        raise MessageError(f"user properties seq and n must be integers: {exc}") from exc
    if content_type == CONTENT_TYPE_GZIP:
        try:
            payload = gzip.decompress(payload)
        except (OSError, EOFError) as exc:
            raise MessageError(f"content type says gzip, but: {exc}") from exc
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
