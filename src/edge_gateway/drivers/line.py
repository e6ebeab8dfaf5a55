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
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from edge_gateway.core.model import FieldValue, Reading
from edge_gateway.drivers.base import DriverStats
from edge_gateway.drivers.framing import LineFramer

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$"
_SKIP = ("", "_")
_DECIMALS = 9  # scaled floats are rounded so 3 * 0.1 is 0.3


class LineConfig(BaseModel):
    """How to read one line-oriented sensor; see docs/drivers.md for examples."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    measurement: str = Field(pattern=NAME_PATTERN)
    delimiter: str = Field("\r\n", min_length=1, max_length=8)
    regex: str | None = None
    separator: str | None = Field(None, min_length=1)
    fields: list[str] = Field(default_factory=list)
    types: dict[str, Literal["float", "int", "str"]] = Field(default_factory=dict)
    scale: dict[str, float] = Field(default_factory=dict)
    offset: dict[str, float] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    max_line_bytes: int = Field(256, ge=8, le=65536)

    @field_validator("delimiter")
    @classmethod
    def _ascii_delimiter(cls, value: str) -> str:
        if not value.isascii():
            raise ValueError("the delimiter must be ASCII")
        return value

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            pattern = re.compile(value)
        except re.error as exc:
            raise ValueError(f"bad regular expression: {exc}") from exc
        if not pattern.groupindex:
            raise ValueError("the regular expression has no named group (?P<name>...)")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> LineConfig:
        if (self.regex is None) == (self.separator is None):
            raise ValueError("set exactly one of regex or separator")
        if self.separator is not None and not self.names:
            raise ValueError("with a separator, fields must name at least one position")
        if self.regex is not None and self.fields:
            raise ValueError("fields goes with separator; a regex names its fields by its groups")
        known = set(self.names)
        for option in ("types", "scale", "offset", "tags"):
            unknown = sorted(set(getattr(self, option)) - known)
            if unknown:
                raise ValueError(f"{option} names unknown fields: {', '.join(unknown)}")
        for name in self.names:
            if not re.match(NAME_PATTERN, name):
                raise ValueError(f"bad field name {name!r}")
            scaled = name in self.scale or name in self.offset
            if scaled and self.types.get(name, "float") != "float":
                raise ValueError(f"field {name!r}: scale and offset apply to floats only")
        if not all(math.isfinite(v) and v != 0 for v in self.scale.values()):
            raise ValueError("scales must be finite and non-zero")
        if not all(math.isfinite(v) for v in self.offset.values()):
            raise ValueError("offsets must be finite")
        if not set(self.names) - set(self.tags):
            raise ValueError("at least one field must not be a tag")
        return self

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
