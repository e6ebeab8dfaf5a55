"""Config models: driver names and options validated through the registry, reported by path."""

from __future__ import annotations

from typing import Any

import pytest

from edge_gateway.agent.collectors.serial.config import SerialBus, SerialSection
from edge_gateway.core.config import ConfigError
from edge_gateway.core.validation import validate
from edge_gateway.drivers.registry import ModbusOptions


def sensor(name: str = "wx", driver: str = "modbus-rtu", **options: Any) -> dict[str, Any]:
    return {"name": name, "driver": driver, "options": options or {"slave": 1, "map": "xy-md02"}}


def errors(data: dict[str, Any]) -> list[tuple[str, str]]:
    """The problems as (path, what) pairs."""
    with pytest.raises(ConfigError) as info:
        validate(SerialSection, data, "serial")
    return [tuple(problem.split(": ", 1)) for problem in info.value.problems]  # type: ignore[misc]


def test_defaults_and_a_valid_section() -> None:
    section = validate(
        SerialSection, {"buses": [{"name": "rs485", "port": "/dev/ttyUSB0", "sensors": [sensor()]}]}
    )
    bus = section.buses[0]
    assert (bus.baud, bus.bytesize, bus.parity, bus.stopbits) == (9600, 8, "N", 1)
    assert bus.sensors[0].interval_s == 10.0 and bus.sensors[0].timeout_s == 0.5
    assert bus.sensors[0].options == ModbusOptions(slave=1, map="xy-md02")
    assert bus.sensors[0].address == 1
    assert SerialSection().buses == []


def test_unknown_driver_is_named_by_path() -> None:
    found = errors({"buses": [{"name": "b", "port": "/dev/x", "sensors": [sensor(driver="canbus")]}]})
    assert found[0][0] == "serial.buses[0].sensors[0].driver"
    assert "unknown driver 'canbus'" in found[0][1]


def test_bad_driver_option_is_named_by_path() -> None:
    bad = sensor(slave=300, map="xy-md02")
    found = errors({"buses": [{"name": "b", "port": "/dev/x", "sensors": [sensor("ok"), bad]}]})
    assert found == [
        ("serial.buses[0].sensors[1].options", "slave: Input should be less than or equal to 247 (got 300)")
    ]


def test_missing_options_and_every_problem_of_a_sensor_are_named() -> None:
    """Options left out are still the driver's to judge; a sensor's other problems come with them."""
    bad = {"name": "bad name", "driver": "modbus-rtu", "interval_s": 0}
    found = errors({"buses": [{"name": "b", "port": "/dev/x", "sensors": [bad]}]})
    assert [path for path, _ in found] == [
        "serial.buses[0].sensors[0].name",
        "serial.buses[0].sensors[0].options",
        "serial.buses[0].sensors[0].interval_s",
    ]
    assert "slave: missing (required)" in found[1][1]


def test_options_must_be_a_table() -> None:
    found = errors({"buses": [{"name": "b", "port": "/dev/x", "sensors": [sensor() | {"options": 7}]}]})
    assert found == [("serial.buses[0].sensors[0].options", "Input should be a valid dictionary")]


def test_unknown_keys_are_refused() -> None:
    found = errors({"buses": [{"name": "b", "port": "/dev/x", "speed": 1, "sensors": [sensor()]}]})
    assert found[0] == ("serial.buses[0].speed", "unknown key")


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
    with pytest.raises(ConfigError, match="sensor names must be unique"):
        validate(SerialBus, {"name": "b", "port": "/dev/x", "sensors": [sensor(), sensor()]})


def test_a_bad_sensor_does_not_hide_the_checks_of_its_bus() -> None:
    bad = sensor("t", slave=0, map="xy-md02")
    found = errors({"buses": [{"name": "b", "port": "/dev/x", "sensors": [sensor("s"), sensor("s"), bad]}]})
    assert [path for path, _ in found] == ["serial.buses[0].sensors[2].options", "serial.buses[0]"]
    assert found[1][1] == "sensor names must be unique: s"


def test_stop_bits_are_checked() -> None:
    found = errors({"buses": [{"name": "b", "port": "/dev/x", "stopbits": 3, "sensors": [sensor()]}]})
    assert found[0] == ("serial.buses[0].stopbits", "stop bits are 1, 1.5 or 2 (got 3)")


def test_position_and_primary_are_carried_on_the_sensors_readings() -> None:
    """The bus's position places every sensor on the NOC map unless a sensor has its own; a sensor
    that is not primary tags its readings so the boards count its lanes once."""
    from edge_gateway.agent.collectors.serial.sensor import CycleResult, SensorState

    bus = validate(
        SerialBus,
        {
            "name": "int1",
            "port": "/dev/x",
            "lat": -6.7,
            "lon": 108.5,
            "sensors": [
                sensor("wx"),
                sensor("loop", slave=2, map="xy-md02") | {"primary": False, "lat": -6.71, "lon": 108.51},
            ],
        },
    )
    weather, loop = (SensorState(s, bus.name, "K", bus.position_of(s)) for s in bus.sensors)
    status = weather.status(CycleResult([], up=True, latency_ms=1.0), 1)
    assert (status.fields["lat"], status.fields["lon"]) == (-6.7, 108.5)
    assert loop.status(CycleResult([], up=True, latency_ms=1.0), 1).fields["lat"] == -6.71
    assert "primary" not in weather.tags and loop.tags["primary"] == "false"


def test_the_address_is_the_drivers_own() -> None:
    radar, gps = sensor("r", driver="radar", address=7), sensor("g", driver="nmea", max_line_bytes=100)
    found = validate(SerialSection, {"buses": [{"name": "a", "port": "/dev/a", "sensors": [radar]}]})
    assert found.buses[0].sensors[0].address == 7
    found = validate(SerialSection, {"buses": [{"name": "b", "port": "/dev/b", "sensors": [gps]}]})
    assert found.buses[0].sensors[0].address is None


def test_half_a_position_is_a_problem() -> None:
    found = errors({"buses": [{"name": "b", "port": "/dev/x", "lat": -6.7, "sensors": [sensor()]}]})
    assert "b: give both lat and lon, or neither" in found[0][1]
