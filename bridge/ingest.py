"""Turns one MQTT message from a gateway into points to store, and keeps the per-gateway accounting.

Pure functions and plain state, no I/O, so every malformed case is easy to test. The identity rule:
every point is stored with the `gateway` tag of the topic it came on, whatever the payload says, so
a gateway can never write as another (the broker's ACL ties a gateway to its topic).
"""

from __future__ import annotations

import gzip
import re
import time
from dataclasses import dataclass, field

from edge.config import NAME_PATTERN
from edge.lineproto import LineProtocolError, encode, parse
from edge.model import Reading

TOPIC = re.compile(r"^edge/(?P<gateway>[^/]+)/data$")
GATEWAY = re.compile(NAME_PATTERN)
SUPPORTED_VERSIONS = frozenset({"1"})
MAX_TRACKED_MISSING = 100_000


class MessageError(ValueError):
    """The message as a whole is unusable (topic, properties, encoding)."""


@dataclass(frozen=True)
class Decoded:
    gateway: str
    seq: int
    lines: list[str]
    bad_lines: list[tuple[str, str]]  # (line, reason)
    newest_time_ns: int


def decode_message(topic: str, payload: bytes, user_properties: dict[str, str], content_type: str) -> Decoded:
    """Validate and rewrite one batch; bad lines are returned apart, with the reason, never dropped."""
    match = TOPIC.match(topic)
    if not match or not GATEWAY.match(match["gateway"]):
        raise MessageError(f"topic {topic!r} is not edge/<gateway>/data")
    gateway = match["gateway"]
    if user_properties.get("v") not in SUPPORTED_VERSIONS:
        raise MessageError(f"wire format version {user_properties.get('v')!r} not supported")
    try:
        seq = int(user_properties["seq"])
        count = int(user_properties["n"])
    except (KeyError, ValueError) as exc:
        raise MessageError(f"user properties seq and n must be integers: {exc}") from exc
    if content_type == "application/gzip":
        try:
            payload = gzip.decompress(payload)
        except (OSError, EOFError) as exc:
            raise MessageError(f"content type says gzip, but: {exc}") from exc
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MessageError(f"payload is not UTF-8: {exc}") from exc
    raw_lines = [line for line in text.split("\n") if line.strip()]
    if len(raw_lines) != count:
        raise MessageError(f"property n={count} but the payload has {len(raw_lines)} lines")
    lines, bad, newest = [], [], 0
    stamp = {"gateway": gateway}
    for line in raw_lines:
        try:
            reading = parse(line)
        except LineProtocolError as exc:
            bad.append((line, str(exc)))
            continue
        encoded = encode(
            Reading(reading.measurement, {**reading.tags, **stamp}, reading.fields, reading.time_ns)
        )
        if encoded is None:
            bad.append((line, "no storable field"))
            continue
        lines.append(encoded)
        newest = max(newest, reading.time_ns)
    return Decoded(gateway, seq, lines, bad, newest)


@dataclass
class GatewayAccount:
    """What the bridge saw of one gateway since it started."""

    points: int = 0
    batches: int = 0
    gaps: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    last_seq: int | None = None
    lag_s: float = 0.0
    missing: set[int] = field(default_factory=set)

    def record(self, decoded: Decoded) -> None:
        """Count a stored batch: seqs still missing (gaps) and repeats (redeliveries, harmless).

        A batch that arrives after a later one (out of order, e.g. resent after a reconnect) fills
        its gap instead of counting as a repeat.
        """
        seq = decoded.seq
        if self.last_seq is None or seq == self.last_seq + 1:
            self.last_seq = seq
        elif seq > self.last_seq:
            skipped = range(self.last_seq + 1, seq)
            self.gaps += len(skipped)
            if len(self.missing) + len(skipped) <= MAX_TRACKED_MISSING:
                self.missing.update(skipped)
            self.last_seq = seq
        elif seq in self.missing:
            self.missing.discard(seq)
            self.gaps -= 1
        else:
            self.duplicates += 1
        self.batches += 1
        self.points += len(decoded.lines)
        self.dead_letters += len(decoded.bad_lines)
        if decoded.newest_time_ns:
            self.lag_s = max(0.0, (time.time_ns() - decoded.newest_time_ns) / 1e9)


@dataclass
class Accounts:
    by_gateway: dict[str, GatewayAccount] = field(default_factory=dict)
    malformed_messages: int = 0

    def of(self, gateway: str) -> GatewayAccount:
        return self.by_gateway.setdefault(gateway, GatewayAccount())

    def readings(self, bridge_id: str, time_ns: int) -> list[Reading]:
        """The `ingest` measurement: the bridge's own health, per gateway."""
        return [
            Reading(
                "ingest",
                {"gateway": gateway, "bridge": bridge_id},
                {
                    "points": acc.points,
                    "batches": acc.batches,
                    "gaps": acc.gaps,
                    "duplicates": acc.duplicates,
                    "dead_letters": acc.dead_letters,
                    "lag_s": round(acc.lag_s, 3),
                },
                time_ns,
            )
            for gateway, acc in sorted(self.by_gateway.items())
        ]
