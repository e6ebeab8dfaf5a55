"""Picking a driver by name with plain options, and the errors a bad config gets."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from edge_gateway.drivers.base import DriverConfigError, DriverError
from edge_gateway.drivers.line import LineDriver
from edge_gateway.drivers.modbus_rtu import ModbusRtuDriver
from edge_gateway.drivers.nmea import NmeaDriver
from edge_gateway.drivers.radar import RadarDriver
from edge_gateway.drivers.registry import DRIVERS, ModbusOptions, build, create, options_for


def test_each_name_builds_its_driver() -> None:
    assert isinstance(create("modbus-rtu", {"slave": 2, "map": "pm"}), ModbusRtuDriver)
    assert isinstance(create("nmea"), NmeaDriver)
    assert isinstance(create("radar", {"address": 3}), RadarDriver)
    line = create("line", {"measurement": "noise", "separator": ",", "fields": ["laeq_db"]})
    assert isinstance(line, LineDriver)
    assert create("nmea").name == "nmea"
    assert sorted(DRIVERS) == ["line", "modbus-rtu", "nmea", "radar"]


@pytest.mark.parametrize(
    ("name", "options", "problem"),
    [
        ("gps", {}, "driver: unknown driver 'gps'; known: line, modbus-rtu, nmea, radar"),
        ("modbus-rtu", {"map": "pm"}, "slave: missing (required)"),
        ("modbus-rtu", {"slave": 300, "map": "pm"}, "slave: Input should be less than or equal to 247"),
        ("modbus-rtu", {"slave": 1}, "set either map (a built-in map name) or points"),
        ("modbus-rtu", {"slave": 1, "map": "xy"}, "map: unknown register map 'xy'"),
        ("modbus-rtu", {"slave": 1, "points": []}, "points: List should have at least 1 item"),
        (
            "modbus-rtu",
            {"slave": 1, "points": [{"name": "t", "function": 4, "register": 1, "measurement": "w"}]},
            "points[0].field: missing (required)",
        ),
        ("radar", {"address": 0}, "address: Input should be greater than or equal to 1"),
        ("nmea", {"baud": 9600}, "baud: unknown key"),
        ("line", {"measurement": "x"}, "set exactly one of regex or separator"),
    ],
)
def test_bad_options_name_the_problem(name: str, options: dict[str, Any], problem: str) -> None:
    with pytest.raises(DriverConfigError) as caught:
        create(name, options)
    assert any(problem in line for line in caught.value.problems), caught.value.problems


POINT = {"name": "t", "function": 4, "register": 1, "measurement": "weather", "field": "temp_c"}


def test_duplicate_generic_points_are_refused_as_a_map() -> None:
    with pytest.raises(DriverConfigError) as caught:
        create("modbus-rtu", {"slave": 1, "points": [POINT, POINT]})
    assert caught.value.problems[0].startswith("points: two points are named 't'")


def test_options_are_validated_once_then_built_from() -> None:
    options = options_for("modbus-rtu", {"slave": 3, "points": [POINT]})
    assert isinstance(options, ModbusOptions) and options.slave == 3
    driver = build("modbus-rtu", options)
    assert isinstance(driver, ModbusRtuDriver)
    assert [point.name for point in driver.register_map.points] == ["t"]
    with pytest.raises(DriverError, match="built from ModbusOptions, not dict"):
        build("modbus-rtu", {"slave": 3, "map": "pm"})  # type: ignore[arg-type]


def test_building_imports_no_pydantic() -> None:
    """The running agent builds its drivers from options its config child validated (issue 15)."""
    script = (
        "import sys\n"
        "from edge_gateway.drivers.line import LineConfig\n"
        "from edge_gateway.drivers.registry import ModbusOptions, build\n"
        "build('modbus-rtu', ModbusOptions(slave=1, map='xy-md02'))\n"
        "build('line', LineConfig(measurement='noise', separator=',', fields=['laeq_db']))\n"
        "print(sorted(name for name in sys.modules if name.startswith('pydantic')))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_stats_as_fields_are_integers() -> None:
    driver = create("nmea")
    driver.feed(b"noise$GPZDA*00\r\n")
    fields = driver.stats.as_fields()
    assert fields["bytes_discarded"] == 5
    assert fields["checksum_errors"] == 1
    assert all(isinstance(value, int) for value in fields.values())
