"""Configurable line driver for ASCII sensors nobody wrote a driver for.

Frame::

    <text><delimiter>          e.g. "CO2=0412,TVOC=0030\\r\\n" or "21.5;57.0\\r\\n"

The text is cut into fields either by a regular expression with named groups (searched anywhere in
the line, so stray bytes around the match do no harm) or by a separator with one name per position
(`_` or an empty name skips a position). Each field is a float with optional scale and offset, an int,
or a string; fields named in `tags` become tags instead (e.g. a lane number).

Resync: lines end at the delimiter. A line longer than `max_line_bytes` is dropped up to and including
the next delimiter, so a sensor that babbles without delimiters never grows the buffer. A line that
does not match, has the wrong number of fields or a value that does not convert is counted as
malformed and skipped; empty lines are skipped silently.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Literal

from annotated_types import Ge, Le, MaxLen, MinLen

from edge_gateway.core.config import Check, Pattern, Section
from edge_gateway.core.config_checks import Checks
from edge_gateway.core.model import FieldValue, Reading
from edge_gateway.drivers.base import DriverStats
from edge_gateway.drivers.framing import LineFramer

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$"
_SKIP = ("", "_")
_DECIMALS = 9  # scaled floats are rounded so 3 * 0.1 is 0.3


def _ascii_delimiter(value: str) -> str:
    if not value.isascii():
        raise ValueError("the delimiter must be ASCII")
    return value


def _compiles(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        pattern = re.compile(value)
    except re.error as exc:
        raise ValueError(f"bad regular expression: {exc}") from exc
    if not pattern.groupindex:
        raise ValueError("the regular expression has no named group (?P<name>...)")
    return value


def _consistent(config: LineConfig) -> list[str]:
    """What does not fit together in a config whose keys are each valid."""
    if (config.regex is None) == (config.separator is None):
        return ["set exactly one of regex or separator"]
    if config.separator is not None and not config.names:
        return ["with a separator, fields must name at least one position"]
    if config.regex is not None and config.fields:
        return ["fields goes with separator; a regex names its fields by its groups"]
    problems = []
    known = set(config.names)
    for option in ("types", "scale", "offset", "tags"):
        unknown = sorted(set(getattr(config, option)) - known)
        if unknown:
            problems.append(f"{option} names unknown fields: {', '.join(unknown)}")
    for name in config.names:
        if not re.match(NAME_PATTERN, name):
            problems.append(f"bad field name {name!r}")
        scaled = name in config.scale or name in config.offset
        if scaled and config.types.get(name, "float") != "float":
            problems.append(f"field {name!r}: scale and offset apply to floats only")
    if not all(math.isfinite(v) and v != 0 for v in config.scale.values()):
        problems.append("scales must be finite and non-zero")
    if not all(math.isfinite(v) for v in config.offset.values()):
        problems.append("offsets must be finite")
    if not known - set(config.tags):
        problems.append("at least one field must not be a tag")
    return problems


@dataclass(frozen=True, kw_only=True)
class LineConfig(Section):
    """How to read one line-oriented sensor; see docs/drivers.md for examples."""

    measurement: Annotated[str, Pattern(NAME_PATTERN)]
    delimiter: Annotated[str, MinLen(1), MaxLen(8), Check(_ascii_delimiter)] = "\r\n"
    regex: Annotated[str | None, Check(_compiles)] = None
    separator: Annotated[str | None, MinLen(1)] = None
    fields: list[str] = field(default_factory=list)
    types: dict[str, Literal["float", "int", "str"]] = field(default_factory=dict)
    scale: dict[str, float] = field(default_factory=dict)
    offset: dict[str, float] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    max_line_bytes: Annotated[int, Ge(8), Le(65536)] = 256

    checks = Checks(
        check=_consistent, reads=("regex", "separator", "fields", "types", "scale", "offset", "tags")
    )

    @property
    def names(self) -> list[str]:
        """The field (and tag) names a line yields."""
        if self.regex is not None:
            return list(re.compile(self.regex).groupindex)
        return [name for name in self.fields if name not in _SKIP]


@dataclass(frozen=True, slots=True)
class LineFrame:
    fields: Mapping[str, FieldValue]
    tags: Mapping[str, str]


class LineDriver:
    """A streaming ASCII sensor read line by line as its LineConfig says."""

    name = "line"

    def __init__(self, config: LineConfig) -> None:
        self.stats = DriverStats()
        self.config = config
        self._pattern = re.compile(config.regex) if config.regex is not None else None
        self._tags = frozenset(config.tags)
        self._framer = LineFramer(
            self.stats, delimiter=config.delimiter.encode("ascii"), max_line_bytes=config.max_line_bytes
        )

    def requests(self) -> list[bytes]:
        return []

    def expect(self, request: bytes) -> None:
        """A streaming sensor answers nothing; there is no stale input to drop."""

    def feed(self, data: bytes) -> list[LineFrame]:
        frames = []
        for line in self._framer.push(data):
            frame = self._parse(line)
            if frame is None:
                self.stats.malformed_frames += 1
            else:
                self.stats.frames_decoded += 1
                frames.append(frame)
        return frames

    def _texts(self, line: str) -> dict[str, str] | None:
        if self._pattern is not None:
            match = self._pattern.search(line)
            if match is None:
                return None
            return {name: text for name, text in match.groupdict().items() if text is not None}
        parts = [part.strip() for part in line.split(self.config.separator)]
        if len(parts) != len(self.config.fields):
            return None
        return {name: text for name, text in zip(self.config.fields, parts, strict=True) if name not in _SKIP}

    def _parse(self, raw: bytes) -> LineFrame | None:
        try:
            texts = self._texts(raw.decode("ascii").strip())
        except UnicodeDecodeError:
            return None
        if texts is None:
            return None
        fields: dict[str, FieldValue] = {}
        tags: dict[str, str] = {}
        for name, text in texts.items():
            if name in self._tags:
                tags[name] = text
                continue
            kind = self.config.types.get(name, "float")
            try:
                if kind == "str":
                    fields[name] = text
                elif kind == "int":
                    fields[name] = int(text)
                else:
                    value = float(text) * self.config.scale.get(name, 1.0)
                    value = round(value + self.config.offset.get(name, 0.0), _DECIMALS)
                    if not math.isfinite(value):
                        return None
                    fields[name] = value
            except ValueError:
                return None
        return LineFrame(fields, tags) if fields else None

    def readings(self, frames: Sequence[LineFrame], tags: Mapping[str, str], time_ns: int) -> list[Reading]:
        """One reading per line, in arrival order."""
        return [
            Reading(self.config.measurement, {**tags, **frame.tags}, dict(frame.fields), time_ns)
            for frame in frames
        ]
