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

Driver names and options are validated by building the driver once through `drivers.registry`, so a
bad option fails at start with its path (`serial.buses[0].sensors[1].options: slave: ...`), never
during a poll. Defaults live here and nowhere else.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from drivers import registry
from drivers.base import DriverConfigError

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
# Drivers that only listen: they need the port to themselves, there is nobody to take turns with.
STREAMING_DRIVERS = frozenset({"nmea", "line"})


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SerialSensor(_Section):
    """One sensor on a bus: which driver reads it, how often, and when it counts as stuck.

    `timeout_s` bounds the wait for each answer, so a dead slave costs at most that per try, and it
    is tried less and less often (backoff up to the bus's `max_backoff_s`). `stuck_cycles`: after that
    many cycles with identical float values the status says `stuck` (0 turns the check off).
    `max_vehicles_per_s` bounds a lane's plausible count increase, so a counter that restarted
    without saying so gives no volume rather than a huge one.
    """

    name: str = Field(pattern=NAME_PATTERN)
    driver: str
    options: dict[str, Any] = Field(default_factory=dict)
    interval_s: float = Field(10.0, gt=0, le=86400)
    timeout_s: float = Field(0.5, gt=0, le=10)
    site: str | None = Field(None, min_length=1)
    stuck_cycles: int = Field(30, ge=0, le=100_000)
    max_vehicles_per_s: float = Field(5.0, gt=0, le=1000)

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
    max_backoff_s: float = Field(60.0, gt=0, le=3600)
    sensors: list[SerialSensor] = Field(min_length=1)

    @field_validator("stopbits")
    @classmethod
    def _stopbits(cls, stopbits: float) -> float:
        if stopbits not in (1, 1.5, 2):
            raise ValueError("stop bits are 1, 1.5 or 2")
        return stopbits

    @model_validator(mode="after")
    def _consistent(self) -> SerialBus:
        names = [sensor.name for sensor in self.sensors]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"sensor names must be unique: {', '.join(duplicates)}")
        if any(sensor.streaming for sensor in self.sensors) and len(self.sensors) > 1:
            raise ValueError("a streaming sensor (nmea, line) must be alone on its bus")
        return self

    @property
    def streaming(self) -> bool:
        return self.sensors[0].streaming


class SerialSection(_Section):
    buses: list[SerialBus] = Field(default_factory=list)

    @field_validator("buses")
    @classmethod
    def _unique(cls, buses: list[SerialBus]) -> list[SerialBus]:
        problems = []
        for what, values in (
            ("bus names", [bus.name for bus in buses]),
            ("ports", [bus.port for bus in buses]),
            ("sensor names", [sensor.name for bus in buses for sensor in bus.sensors]),
        ):
            duplicates = sorted({value for value in values if values.count(value) > 1})
            if duplicates:
                problems.append(f"{what} must be unique: {', '.join(duplicates)}")
        if problems:
            raise ValueError("; ".join(problems))
        return buses
