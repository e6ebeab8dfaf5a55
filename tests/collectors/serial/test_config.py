"""Config models: driver names and options validated through the registry, reported by path."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from edge_gateway.agent.collectors.serial.config import SerialBus, SerialSection


def sensor(name: str = "wx", driver: str = "modbus-rtu", **options: Any) -> dict[str, Any]:
    return {"name": name, "driver": driver, "options": options or {"slave": 1, "map": "xy-md02"}}


def errors(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as info:
        SerialSection.model_validate(data)
    return [(".".join(map(str, e["loc"])), str(e["msg"])) for e in info.value.errors()]


def test_defaults_and_a_valid_section() -> None:
    section = SerialSection.model_validate(
        {"buses": [{"name": "rs485", "port": "/dev/ttyUSB0", "sensors": [sensor()]}]}
    )
    bus = section.buses[0]
    assert (bus.baud, bus.bytesize, bus.parity, bus.stopbits) == (9600, 8, "N", 1)
    assert bus.sensors[0].interval_s == 10.0 and bus.sensors[0].timeout_s == 0.5
    assert SerialSection().buses == []


def test_unknown_driver_is_named_by_path() -> None:
    found = errors({"buses": [{"name": "b", "port": "/dev/x", "sensors": [sensor(driver="canbus")]}]})
    assert found[0][0] == "buses.0.sensors.0.driver"
    assert "unknown driver 'canbus'" in found[0][1]


def test_bad_driver_option_is_named_by_path() -> None:
    bad = sensor(slave=300, map="xy-md02")
    found = errors({"buses": [{"name": "b", "port": "/dev/x", "sensors": [sensor("ok"), bad]}]})
    assert found == [
        (
            "buses.0.sensors.1.options",
            "Value error, slave: Input should be less than or equal to 247 (got 300)",
        )
    ]


def test_unknown_keys_are_refused() -> None:
    found = errors({"buses": [{"name": "b", "port": "/dev/x", "speed": 1, "sensors": [sensor()]}]})
    assert found[0][0] == "buses.0.speed"


def test_a_streaming_sensor_must_be_alone() -> None:
    gps = sensor("gps", driver="nmea", max_line_bytes=120)
    found = errors({"buses": [{"name": "b", "port": "/dev/x", "sensors": [gps, sensor()]}]})
    assert "must be alone on its bus" in found[0][1]


def test_names_and_ports_must_be_unique() -> None:
    bus = {"name": "b", "port": "/dev/x", "sensors": [sensor()]}
    found = errors({"buses": [bus, bus]})
    assert "bus names must be unique: b" in found[0][1]
    assert "ports must be unique: /dev/x" in found[0][1]
    assert "sensor names must be unique: wx" in found[0][1]
    with pytest.raises(ValidationError, match="sensor names must be unique"):
        SerialBus.model_validate({"name": "b", "port": "/dev/x", "sensors": [sensor(), sensor()]})


def test_stop_bits_are_checked() -> None:
    found = errors({"buses": [{"name": "b", "port": "/dev/x", "stopbits": 3, "sensors": [sensor()]}]})
    assert found[0][0] == "buses.0.stopbits"


def test_position_and_primary_are_carried_on_the_sensors_readings() -> None:
    """The bus's position places every sensor on the NOC map unless a sensor has its own; a sensor
    that is not primary tags its readings so the boards count its lanes once."""
    from edge_gateway.agent.collectors.serial.sensor import CycleResult, SensorState

    bus = SerialBus.model_validate(
        {
            "name": "int1",
            "port": "/dev/x",
            "lat": -6.7,
            "lon": 108.5,
            "sensors": [
                sensor("wx"),
                sensor("loop", slave=2, map="xy-md02") | {"primary": False, "lat": -6.71, "lon": 108.51},
            ],
        }
    )
    weather, loop = (SensorState(s, bus.name, "K", bus.position_of(s)) for s in bus.sensors)
    status = weather.status(CycleResult([], up=True, latency_ms=1.0), 1)
    assert (status.fields["lat"], status.fields["lon"]) == (-6.7, 108.5)
    assert loop.status(CycleResult([], up=True, latency_ms=1.0), 1).fields["lat"] == -6.71
    assert "primary" not in weather.tags and loop.tags["primary"] == "false"


def test_half_a_position_is_a_problem() -> None:
    found = errors({"buses": [{"name": "b", "port": "/dev/x", "lat": -6.7, "sensors": [sensor()]}]})
    assert "b: give both lat and lon, or neither" in found[0][1]
