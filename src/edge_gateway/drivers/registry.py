"""Driver name -> factory, so the serial collector and `edge probe serial --driver NAME` pick by name.

Each factory takes the plain options of one sensor (a TOML table, or `--option key=value` pairs) and
validates them with a pydantic model, so a wrong option fails at start with its path, never mid-poll:

    modbus-rtu   slave (1-247), and map (a built-in map name) or points (a generic map, see
                 edge_gateway.drivers.modbus_maps); max_buffer_bytes
    nmea         max_line_bytes
    radar        address (1-99), max_line_bytes
    line         the keys of edge_gateway.drivers.line.LineConfig
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from edge_gateway.core.config import problems_of
from edge_gateway.drivers.base import Driver, DriverConfigError
from edge_gateway.drivers.line import LineConfig, LineDriver
from edge_gateway.drivers.modbus_maps import RegisterPoint, builtin_map, parse_map
from edge_gateway.drivers.modbus_rtu import ModbusRtuDriver
from edge_gateway.drivers.nmea import NmeaDriver
from edge_gateway.drivers.radar import RadarDriver

DriverFactory = Callable[[Mapping[str, Any]], Driver]


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModbusOptions(_Options):
    slave: int = Field(ge=1, le=247)
    map: str | None = None
    points: list[RegisterPoint] | None = None
    max_buffer_bytes: int = Field(512, ge=64, le=65536)

    @model_validator(mode="after")
    def _one_map(self) -> ModbusOptions:
        if (self.map is None) == (self.points is None):
            raise ValueError("set either map (a built-in map name) or points (a generic map)")
        return self


class NmeaOptions(_Options):
    max_line_bytes: int = Field(120, ge=16, le=4096)


class RadarOptions(_Options):
    address: int = Field(1, ge=1, le=99)
    max_line_bytes: int = Field(512, ge=16, le=4096)


_Model = TypeVar("_Model", bound=BaseModel)


def _validate(model: type[_Model], options: Mapping[str, Any]) -> _Model:
    try:
        return model.model_validate(dict(options))
    except ValidationError as exc:
        raise DriverConfigError(problems_of(exc)) from exc


def _modbus(options: Mapping[str, Any]) -> Driver:
    valid = _validate(ModbusOptions, options)
    if valid.map is not None:
        register_map = builtin_map(valid.map)
    else:
        register_map = parse_map({"name": f"slave{valid.slave}", "points": valid.points}, "map")
    return ModbusRtuDriver(valid.slave, register_map, valid.max_buffer_bytes)


def _nmea(options: Mapping[str, Any]) -> Driver:
    return NmeaDriver(_validate(NmeaOptions, options).max_line_bytes)


def _radar(options: Mapping[str, Any]) -> Driver:
    valid = _validate(RadarOptions, options)
    return RadarDriver(valid.address, valid.max_line_bytes)


def _line(options: Mapping[str, Any]) -> Driver:
    return LineDriver(_validate(LineConfig, options))


DRIVERS: dict[str, DriverFactory] = {
    "modbus-rtu": _modbus,
    "nmea": _nmea,
    "radar": _radar,
    "line": _line,
}


def create(name: str, options: Mapping[str, Any] | None = None) -> Driver:
    """A new driver instance; DriverConfigError for an unknown name or bad options."""
    factory = DRIVERS.get(name)
    if factory is None:
        raise DriverConfigError([f"driver: unknown driver {name!r}; known: {', '.join(sorted(DRIVERS))}"])
    return factory(options or {})
