"""Configuration of the serial collectors: buses, and the sensors on each.

```toml
[[serial.buses]]
name = "int01-rs485"
port = "/dev/serial/by-id/usb-FTDI_...-if00-port0"
baud = 9600

[[serial.buses.sensors]]
name = "int01-weather"
driver = "modbus-rtu"
options = { slave = 1, map = "xy-md02" }
interval_s = 10
```

A bus may carry `lat`/`lon` (its intersection on the NOC map); a sensor's own `lat`/`lon` win.

The sections are frozen dataclasses; pydantic validates them where the file is checked (the agent's
config child, `edge check-config`, `edge probe serial`), never in the running agent (issue 15).
Validation turns a sensor's `options` table into its driver's options object
(`edge_gateway.drivers.registry.options_for`), so a bad option fails at start with its path
(`serial.buses[0].sensors[1].options: slave: ...`), never during a poll, and the collector only
builds the driver (`registry.build`). The checks across sensors and buses run even when some of them
are wrong, so one run of `edge check-config` lists every problem (src/edge_gateway/core/config_checks.py).
Defaults live here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from annotated_types import Ge, Gt, Le, MinLen

from edge_gateway.core.config import NAME_PATTERN, Check, Doc, DownBackoffMaxS, Pattern, Section
from edge_gateway.core.config_checks import Checks, duplicates
from edge_gateway.drivers import registry
from edge_gateway.drivers.base import DriverConfigError

# Drivers that only listen: they need the port to themselves, there is nobody to take turns with.
STREAMING_DRIVERS = frozenset({"nmea", "line"})


def _known_driver(name: str) -> str:
    if name not in registry.DRIVERS:
        raise ValueError(f"unknown driver {name!r}; known: {', '.join(sorted(registry.DRIVERS))}")
    return name


@dataclass(frozen=True)
class _DriverTable:
    """A sensor's raw options with its driver's name, so the options' own check can validate them
    for that driver and report their problems at `options` (the driver's name is another key)."""

    driver: str
    options: Any


def _with_driver(data: dict[str, Any]) -> dict[str, Any]:
    if isinstance(data.get("driver"), str) and data["driver"] in registry.DRIVERS:
        data["options"] = _DriverTable(data["driver"], data.get("options", {}))
    return data


def _driver_options(value: Any) -> Any:
    """The options validated into the driver's options object (registry.options_for)."""
    table = value.options if isinstance(value, _DriverTable) else value
    if not isinstance(table, dict):
        raise ValueError("Input should be a valid dictionary")
    if not isinstance(value, _DriverTable):  # the driver is unknown: reported at `driver`
        return table
    try:
        return registry.options_for(value.driver, table)
    except DriverConfigError as exc:
        raise ValueError("; ".join(exc.problems)) from exc


@dataclass(frozen=True, kw_only=True)
class SerialSensor(Section):
    """One sensor on a bus: which driver reads it, how often, and when it counts as stuck.

    `options` is a table in the file; validation turns it into the driver's options object
    (registry.options_for), which the collector builds the driver from. `timeout_s` bounds the wait
    for each answer, so a dead slave costs at most that per try, and it
    is tried less and less often (backoff up to the bus's `down_backoff_max_s`). `stuck_cycles`: after that
    many cycles with identical float values the status says `stuck` (0 turns the check off).
    `max_vehicles_per_s` bounds a lane's plausible count increase, so a counter that restarted
    without saying so gives no volume rather than a huge one. `primary = false` on a counter that
    watches lanes another sensor already counts (a loop detector beside a radar): its traffic
    readings are tagged `primary=false` and the boards count each lane once, by the primary sensor.
    `lat`/`lon` place the sensor on the NOC map (default: its bus's).
    """

    name: Annotated[str, Pattern(NAME_PATTERN)]
    driver: Annotated[str, Check(_known_driver)]
    options: Annotated[Any, Check(_driver_options), Doc("the driver's options, a table")] = field(
        default_factory=dict
    )
    interval_s: Annotated[float, Gt(0), Le(86400)] = 10.0
    timeout_s: Annotated[float, Gt(0), Le(10)] = 0.5
    site: Annotated[str | None, MinLen(1)] = None
    stuck_cycles: Annotated[int, Ge(0), Le(100_000)] = 30
    max_vehicles_per_s: Annotated[float, Gt(0), Le(1000)] = 5.0
    primary: bool = True
    lat: Annotated[float | None, Ge(-90), Le(90), Doc("position on the NOC map, degrees")] = None
    lon: Annotated[float | None, Ge(-180), Le(180), Doc("position on the NOC map, degrees")] = None

    checks = Checks(before=_with_driver)

    @property
    def streaming(self) -> bool:
        return self.driver in STREAMING_DRIVERS

    @property
    def address(self) -> int | None:
        """Where the sensor answers on its bus (a Modbus slave, a radar address); None for a talker."""
        for key in ("slave", "address"):
            value = getattr(self.options, key, None)
            if isinstance(value, int):
                return value
        return None


def _stopbits(stopbits: float) -> float:
    if stopbits not in (1, 1.5, 2):
        raise ValueError("stop bits are 1, 1.5 or 2")
    return stopbits


def _bus_problems(bus: SerialBus) -> list[str]:
    problems = duplicates("sensor names", [sensor.name for sensor in bus.sensors])
    placed: list[tuple[str, float | None, float | None]] = [(bus.name, bus.lat, bus.lon)]
    placed += [(sensor.name, sensor.lat, sensor.lon) for sensor in bus.sensors]
    problems += [
        f"{name}: give both lat and lon, or neither"
        for name, lat, lon in placed
        if (lat is None) != (lon is None)
    ]
    if any(sensor.streaming for sensor in bus.sensors) and len(bus.sensors) > 1:
        problems.append("a streaming sensor (nmea, line) must be alone on its bus")
    return problems


@dataclass(frozen=True, kw_only=True)
class SerialBus(Section):
    """One serial port and the sensors behind it: several Modbus slaves on an RS-485 bus, or one
    talker (GPS, line sensor) or one radar counter on an RS-232 line."""

    name: Annotated[str, Pattern(NAME_PATTERN)]
    port: Annotated[str, MinLen(1)]
    baud: Annotated[int, Ge(300), Le(4_000_000)] = 9600
    bytesize: Literal[5, 6, 7, 8] = 8
    parity: Literal["N", "E", "O", "M", "S"] = "N"
    stopbits: Annotated[float, Check(_stopbits), Doc("1, 1.5 or 2")] = 1
    site: Annotated[str | None, MinLen(1)] = None
    down_backoff_max_s: DownBackoffMaxS = 60.0
    lat: Annotated[float | None, Ge(-90), Le(90), Doc("the intersection on the NOC map, degrees")] = None
    lon: Annotated[float | None, Ge(-180), Le(180), Doc("the intersection on the NOC map, degrees")] = None
    sensors: Annotated[list[SerialSensor], MinLen(1)]

    checks = Checks(check=_bus_problems, reads=("lat", "lon"))

    @property
    def streaming(self) -> bool:
        return self.sensors[0].streaming

    def position_of(self, sensor: SerialSensor) -> dict[str, float]:
        """The `lat`/`lon` fields of a sensor's status: its own position, else its bus's, else none."""
        for lat, lon in ((sensor.lat, sensor.lon), (self.lat, self.lon)):
            if lat is not None and lon is not None:
                return {"lat": lat, "lon": lon}
        return {}


def _section_problems(section: SerialSection) -> list[str]:
    """Names and ports are unique across the buses that are valid (the others are reported alone)."""
    buses = section.buses
    problems = [
        *duplicates("bus names", [bus.name for bus in buses]),
        *duplicates("ports", [bus.port for bus in buses]),
        *duplicates("sensor names", [sensor.name for bus in buses for sensor in bus.sensors]),
    ]
    return ["; ".join(problems)] if problems else []


@dataclass(frozen=True, kw_only=True)
class SerialSection(Section):
    buses: list[SerialBus] = field(default_factory=list)

    checks = Checks(check=_section_problems)
