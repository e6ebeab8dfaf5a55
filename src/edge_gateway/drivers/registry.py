"""Driver name -> options and factory, so the serial collector and `edge probe serial --driver NAME`
pick by name.

Making a driver is two steps. `options_for(name, raw)` validates the plain options of one sensor (a
TOML table, or `--option key=value` pairs) into the driver's options object, so a wrong option fails
when the config is checked, with its path, never mid-poll; it imports pydantic (core.validation),
lazily. `build(name, options)` makes a driver from options already validated and imports nothing
of pydantic: the running agent gets its sensors' options validated by the config child and only
builds (issue 15). `create(name, raw)` does both, for the CLI, the probes and the tests:

    modbus-rtu   slave (1-247), and map (a built-in map name) or points (a generic map, see
                 edge_gateway.drivers.modbus_maps); max_buffer_bytes
    nmea         max_line_bytes
    radar        address (1-99), max_line_bytes
    line         the keys of edge_gateway.drivers.line.LineConfig
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from annotated_types import Ge, Le, MinLen

from edge_gateway.core.config import Check, ConfigError, Section
from edge_gateway.core.config_checks import Checks
from edge_gateway.drivers.base import Driver, DriverConfigError, DriverError
from edge_gateway.drivers.line import LineConfig, LineDriver
from edge_gateway.drivers.modbus_maps import (
    RegisterMap,
    RegisterPoint,
    builtin_map,
    builtin_maps,
    unique_points,
)
from edge_gateway.drivers.modbus_rtu import ModbusRtuDriver
from edge_gateway.drivers.nmea import NmeaDriver
from edge_gateway.drivers.radar import RadarDriver


def _known_map(name: str | None) -> str | None:
    if name is not None and name not in builtin_maps():
        raise ValueError(f"unknown register map {name!r}; known: {', '.join(sorted(builtin_maps()))}")
    return name


def _unique(points: list[RegisterPoint] | None) -> list[RegisterPoint] | None:
    problems = unique_points(points or [])
    if problems:
        raise ValueError("; ".join(problems))
    return points


def _one_map(options: ModbusOptions) -> list[str]:
    if (options.map is None) == (options.points is None):
        return ["set either map (a built-in map name) or points (a generic map)"]
    return []


@dataclass(frozen=True, kw_only=True)
class ModbusOptions(Section):
    slave: Annotated[int, Ge(1), Le(247)]
    map: Annotated[str | None, Check(_known_map)] = None
    points: Annotated[list[RegisterPoint] | None, MinLen(1), Check(_unique)] = None  # as RegisterMap's
    max_buffer_bytes: Annotated[int, Ge(64), Le(65536)] = 512

    checks = Checks(check=_one_map, reads=("map", "points"))

    def register_map(self) -> RegisterMap:
        """The built-in map named, or the generic one of `points` (validated with the options)."""
        if self.map is not None:
            return builtin_map(self.map)
        return RegisterMap(name=f"slave{self.slave}", points=list(self.points or []))


@dataclass(frozen=True, kw_only=True)
class NmeaOptions(Section):
    max_line_bytes: Annotated[int, Ge(16), Le(4096)] = 120


@dataclass(frozen=True, kw_only=True)
class RadarOptions(Section):
    address: Annotated[int, Ge(1), Le(99)] = 1
    max_line_bytes: Annotated[int, Ge(16), Le(4096)] = 512


DriverOptions = ModbusOptions | NmeaOptions | RadarOptions | LineConfig


@dataclass(frozen=True)
class DriverKind:
    """A driver's options class and how to make the driver from options of that class."""

    options: type[Any]
    make: Callable[[Any], Driver]


def _modbus(options: ModbusOptions) -> Driver:
    return ModbusRtuDriver(options.slave, options.register_map(), options.max_buffer_bytes)


def _nmea(options: NmeaOptions) -> Driver:
    return NmeaDriver(options.max_line_bytes)


def _radar(options: RadarOptions) -> Driver:
    return RadarDriver(options.address, options.max_line_bytes)


DRIVERS: dict[str, DriverKind] = {
    "modbus-rtu": DriverKind(ModbusOptions, _modbus),
    "nmea": DriverKind(NmeaOptions, _nmea),
    "radar": DriverKind(RadarOptions, _radar),
    "line": DriverKind(LineConfig, LineDriver),
}


def _kind(name: str) -> DriverKind:
    kind = DRIVERS.get(name)
    if kind is None:
        raise DriverConfigError([f"driver: unknown driver {name!r}; known: {', '.join(sorted(DRIVERS))}"])
    return kind


def options_for(name: str, raw: Mapping[str, Any] | None = None) -> DriverOptions:
    """The plain options of driver `name` validated into its options object; DriverConfigError for
    an unknown name, or with every problem of the options ('slave: Input should be ...')."""
    from edge_gateway.core.validation import validate

    kind = _kind(name)
    try:
        options: DriverOptions = validate(kind.options, dict(raw or {}))
    except ConfigError as exc:
        raise DriverConfigError(exc.problems) from exc
    return options


def build(name: str, options: DriverOptions) -> Driver:
    """A new driver of `name` from its options as `options_for` made them; validates nothing."""
    kind = _kind(name)
    if not isinstance(options, kind.options):
        wanted, given = kind.options.__name__, type(options).__name__
        raise DriverError(f"driver {name!r} is built from {wanted}, not {given}")
    return kind.make(options)


def create(name: str, raw: Mapping[str, Any] | None = None) -> Driver:
    """A new driver from plain options; DriverConfigError for an unknown name or bad options."""
    return build(name, options_for(name, raw))
