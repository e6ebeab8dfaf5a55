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

Driver names and options are validated by building the driver once through `edge_gateway.drivers.registry`,
so a
bad option fails at start with its path (`serial.buses[0].sensors[1].options: slave: ...`), never
during a poll; the checks across sensors and buses run even when some of them are wrong, so one run
of `edge check-config` lists every problem (src/edge_gateway/core/config_checks.py). Defaults live here and
nowhere else.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from edge_gateway.core.config_checks import checked_model, duplicates
from edge_gateway.drivers import registry
from edge_gateway.drivers.base import DriverConfigError

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
# Drivers that only listen: they need the port to themselves, there is nobody to take turns with.
STREAMING_DRIVERS = frozenset({"nmea", "line"})


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SerialSensor(_Section):
    """One sensor on a bus: which driver reads it, how often, and when it counts as stuck.

    `timeout_s` bounds the wait for each answer, so a dead slave costs at most that per try, and it
    is tried less and less often (backoff up to the bus's `down_backoff_max_s`). `stuck_cycles`: after that
    many cycles with identical float values the status says `stuck` (0 turns the check off).
    `max_vehicles_per_s` bounds a lane's plausible count increase, so a counter that restarted
    without saying so gives no volume rather than a huge one. `primary = false` on a counter that
    watches lanes another sensor already counts (a loop detector beside a radar): its traffic
    readings are tagged `primary=false` and the boards count each lane once, by the primary sensor.
    `lat`/`lon` place the sensor on the NOC map (default: its bus's).
    """

    name: str = Field(pattern=NAME_PATTERN)
    driver: str
    options: dict[str, Any] = Field(default_factory=dict)
    interval_s: float = Field(10.0, gt=0, le=86400)
    timeout_s: float = Field(0.5, gt=0, le=10)
    site: str | None = Field(None, min_length=1)
    stuck_cycles: int = Field(30, ge=0, le=100_000)
    max_vehicles_per_s: float = Field(5.0, gt=0, le=1000)
    primary: bool = True
    lat: float | None = Field(None, ge=-90, le=90, description="position on the NOC map, degrees")
    lon: float | None = Field(None, ge=-180, le=180, description="position on the NOC map, degrees")

    @field_validator("driver")
    @classmethod
    def _known_driver(cls, name: str) -> str:
        if name not in registry.DRIVERS:
            raise ValueError(f"unknown driver {name!r}; known: {', '.join(sorted(registry.DRIVERS))}")
        return name

    @field_validator("options")
    @classmethod
    def _driver_accepts(cls, options: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        driver = info.data.get("driver")
        if driver is None:  # already reported under `driver`
            return options
        try:
            registry.create(driver, options)
        except DriverConfigError as exc:
            raise ValueError("; ".join(exc.problems)) from exc
        return options

    @property
    def streaming(self) -> bool:
        return self.driver in STREAMING_DRIVERS


class SerialBus(_Section):
    """One serial port and the sensors behind it: several Modbus slaves on an RS-485 bus, or one
    talker (GPS, line sensor) or one radar counter on an RS-232 line."""

    name: str = Field(pattern=NAME_PATTERN)
    port: str = Field(min_length=1)
    baud: int = Field(9600, ge=300, le=4_000_000)
    bytesize: Literal[5, 6, 7, 8] = 8
    parity: Literal["N", "E", "O", "M", "S"] = "N"
    stopbits: float = Field(1, description="1, 1.5 or 2")
    site: str | None = Field(None, min_length=1)
    down_backoff_max_s: float = Field(60.0, gt=0, le=3600)
    lat: float | None = Field(None, ge=-90, le=90, description="the intersection on the NOC map, degrees")
    lon: float | None = Field(None, ge=-180, le=180, description="the intersection on the NOC map, degrees")
    sensors: list[SerialSensor] = Field(min_length=1)

    @field_validator("stopbits")
    @classmethod
    def _stopbits(cls, stopbits: float) -> float:
        if stopbits not in (1, 1.5, 2):
            raise ValueError("stop bits are 1, 1.5 or 2")
        return stopbits

    _checks = checked_model(check=lambda bus: _bus_problems(bus))

    @property
    def streaming(self) -> bool:
        return self.sensors[0].streaming

    def position_of(self, sensor: SerialSensor) -> dict[str, float]:
        """The `lat`/`lon` fields of a sensor's status: its own position, else its bus's, else none."""
        for lat, lon in ((sensor.lat, sensor.lon), (self.lat, self.lon)):
            if lat is not None and lon is not None:
                return {"lat": lat, "lon": lon}
        return {}


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


def _section_problems(section: SerialSection) -> list[str]:
    """Names and ports are unique across the buses that are valid (the others are reported alone)."""
    buses = section.buses
    problems = [
        *duplicates("bus names", [bus.name for bus in buses]),
        *duplicates("ports", [bus.port for bus in buses]),
        *duplicates("sensor names", [sensor.name for bus in buses for sensor in bus.sensors]),
    ]
    return ["; ".join(problems)] if problems else []


class SerialSection(_Section):
    buses: list[SerialBus] = Field(default_factory=list)

    _checks = checked_model(check=lambda section: _section_problems(section))
