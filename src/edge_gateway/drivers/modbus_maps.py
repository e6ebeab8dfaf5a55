"""Modbus register maps as data: which registers to read and how each becomes a Reading field.

A map is a list of points, each `{name, function, register, type, word_order, scale, offset,
measurement, field, tags, counter}`. The built-in maps (`xy-md02`, `pm`, `noise`, `di8`) live in
`modbus_maps.toml` next to this file; a user writes the same shape in the agent's config for a device
nobody mapped yet. A user's map is validated (`parse_map`, pydantic) when the config is checked, so a
wrong map fails at start with every problem named, never during a poll (Telegraf's `Init()`, Home
Assistant's entity descriptions). The built-in maps are built from the TOML as they are, with no
validation, so the running agent imports no pydantic (issue 15); a test checks that each is exactly
what validation makes of it.
"""

from __future__ import annotations

import dataclasses
import math
import struct
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from annotated_types import Ge, Le, MinLen

from edge_gateway.core.config import ConfigError, Pattern, Section
from edge_gateway.core.config_checks import Checks
from edge_gateway.core.model import FieldValue
from edge_gateway.drivers.base import DriverConfigError

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$"
BIT_FUNCTIONS = (0x01, 0x02)
# The standard's limits on one read: 2000 coils/inputs, 125 registers.
MAX_READ_COUNT = {0x01: 2000, 0x02: 2000, 0x03: 125, 0x04: 125}
_WIDTH = {"bit": 1, "u16": 1, "s16": 1, "u32": 2, "s32": 2, "f32": 2}
# Scaled values are rounded to this many decimals so 3 * 0.1 is stored as 0.3, not 0.30000000000000004.
_DECIMALS = 9

RegisterType = Literal["bit", "u16", "s16", "u32", "s32", "f32"]
# (measurement, sorted extra tags) -> fields: one Reading each.
Series = dict[tuple[str, tuple[tuple[str, str], ...]], dict[str, FieldValue]]


@dataclass(frozen=True, slots=True)
class ReadBlock:
    """One read request's worth of a map: `count` registers or bits from `address` with `function`."""

    function: int
    address: int
    count: int


def point_problems(point: RegisterPoint) -> list[str]:
    """What is inconsistent in a point whose keys are each valid."""
    problems = []
    if (point.function in BIT_FUNCTIONS) != (point.type == "bit"):
        problems.append(
            "type 'bit' goes with functions 1 and 2, register types with functions 3 and 4"
            f" (got type {point.type!r} with function {point.function})"
        )
    elif point.register + point.width - 1 > 0xFFFF:
        problems.append(f"a {point.type} at register {point.register} runs past register 65535")
    if not (math.isfinite(point.scale) and point.scale != 0 and math.isfinite(point.offset)):
        problems.append("scale must be finite and non-zero, offset finite")
    unscaled = point.scale == 1.0 and point.offset == 0.0
    if point.type == "bit" and not unscaled:
        problems.append("a bit takes no scale or offset")
    if point.counter and (point.type not in ("u16", "u32") or not unscaled):
        problems.append("a counter is a u16 or u32 without scale or offset")
    return problems


def unique_points(points: Sequence[RegisterPoint]) -> list[str]:
    """Point names and the (measurement, tags, field) each writes must be unique within a map."""
    names: set[str] = set()
    targets: set[tuple[str, tuple[tuple[str, str], ...], str]] = set()
    problems = []
    for point in points:
        target = (point.measurement, tuple(sorted(point.tags.items())), point.field)
        if point.name in names:
            problems.append(f"two points are named {point.name!r}")
        if target in targets:
            problems.append(f"two points write field {point.field!r} of {point.measurement!r}")
        names.add(point.name)
        targets.add(target)
    return problems


@dataclass(frozen=True, kw_only=True)
class RegisterPoint(Section):
    """One value of a device: where it sits and which field of which measurement it becomes.

    32-bit types span two registers; `word_order = "big"` means the high word comes first (the
    Modbus convention), "little" the low word first. A `counter` is a raw wrapping count (u16 or u32,
    no scale) reported as an integer so the collector can difference it; every other number is a float.
    """

    name: Annotated[str, Pattern(NAME_PATTERN)]
    function: Literal[1, 2, 3, 4]
    register: Annotated[int, Ge(0), Le(0xFFFF)]
    type: RegisterType = "u16"
    word_order: Literal["big", "little"] = "big"
    scale: float = 1.0
    offset: float = 0.0
    measurement: Annotated[str, Pattern(NAME_PATTERN)]
    field: Annotated[str, Pattern(NAME_PATTERN)]
    tags: dict[str, str] = dataclasses.field(default_factory=dict)
    counter: bool = False

    checks = Checks(
        check=point_problems, reads=("function", "register", "type", "scale", "offset", "counter")
    )

    @property
    def width(self) -> int:
        """Registers (or bits) the point spans."""
        return _WIDTH[self.type]

    def value(self, words: Sequence[int]) -> FieldValue | None:
        """The field value from the point's raw registers (or its bit); None when not finite."""
        if self.type == "bit":
            return bool(words[0])
        if self.width == 1:
            raw = words[0]
            if self.type == "s16" and raw >= 0x8000:
                raw -= 0x10000
        else:
            high, low = (words[0], words[1]) if self.word_order == "big" else (words[1], words[0])
            raw = (high << 16) | low
            if self.type == "s32" and raw >= 0x8000_0000:
                raw -= 0x1_0000_0000
            elif self.type == "f32":
                number = struct.unpack(">f", raw.to_bytes(4, "big"))[0]
                return number * self.scale + self.offset if math.isfinite(number) else None
        if self.counter:
            return raw
        return round(raw * self.scale + self.offset, _DECIMALS)


@dataclass(frozen=True, kw_only=True)
class RegisterMap(Section):
    """The points of one device type; names and (measurement, tags, field) must be unique."""

    name: Annotated[str, Pattern(NAME_PATTERN)]
    description: str = ""
    points: Annotated[list[RegisterPoint], MinLen(1)]

    checks = Checks(check=lambda register_map: unique_points(register_map.points))

    def blocks(self) -> list[ReadBlock]:
        """The reads that fetch every point: contiguous runs per function, within the read limits.

        Gaps are never bridged: a slave answers exception 0x02 when any register of a range is
        unmapped, so reading across one would lose the whole block.
        """
        blocks: list[ReadBlock] = []
        for function in sorted({point.function for point in self.points}):
            spans = sorted((p.register, p.register + p.width) for p in self.points if p.function == function)
            start, end = spans[0]
            for span_start, span_end in spans[1:]:
                if span_start <= end and max(end, span_end) - start <= MAX_READ_COUNT[function]:
                    end = max(end, span_end)
                    continue
                blocks.append(ReadBlock(function, start, end - start))
                start, end = span_start, span_end
            blocks.append(ReadBlock(function, start, end - start))
        return blocks

    def decode(self, values: Mapping[tuple[int, int], int]) -> Series:
        """Fields per series from raw values keyed by (function, register); points not read are left out."""
        series: Series = {}
        for point in self.points:
            words = [values.get((point.function, point.register + i)) for i in range(point.width)]
            if any(word is None for word in words):
                continue
            value = point.value([word for word in words if word is not None])
            if value is not None:
                key = (point.measurement, tuple(sorted(point.tags.items())))
                series.setdefault(key, {})[point.field] = value
        return series

    def counter_bits(self) -> dict[str, int]:
        """Wrap width in bits of each counter field, for `edge_gateway.drivers.counters.counter_delta`."""
        return {p.field: 16 * p.width for p in self.points if p.counter}


def parse_map(data: Mapping[str, Any], where: str = "map") -> RegisterMap:
    """A validated map from plain data (a TOML table); DriverConfigError lists every problem."""
    from edge_gateway.core.validation import validate

    try:
        return validate(RegisterMap, dict(data), where)
    except ConfigError as exc:
        raise DriverConfigError(exc.problems) from exc


def _unchecked_map(name: str, table: Mapping[str, Any]) -> RegisterMap:
    """A shipped map built as the TOML says, without validation (see the module's docstring)."""
    points = [RegisterPoint(**point) for point in table["points"]]
    return RegisterMap(name=name, description=table.get("description", ""), points=points)


@cache
def builtin_maps() -> dict[str, RegisterMap]:
    """The maps shipped in modbus_maps.toml, by name."""
    # Next to this file rather than importlib.resources: an editable install may expose `drivers` as a
    # namespace package, which importlib.resources cannot read from on Python 3.11.
    text = Path(__file__).with_name("modbus_maps.toml").read_text(encoding="utf-8")
    return {name: _unchecked_map(name, table) for name, table in tomllib.loads(text).items()}


def builtin_map(name: str) -> RegisterMap:
    """A shipped map by name; DriverConfigError naming the known ones when it does not exist."""
    maps = builtin_maps()
    if name not in maps:
        raise DriverConfigError([f"map: unknown register map {name!r}; known: {', '.join(sorted(maps))}"])
    return maps[name]
