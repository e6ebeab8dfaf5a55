"""`edge probe serial` argument handling; reading a real port is in tests/integration."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from edge_gateway.agent.collectors.serial.probe import add_probe_parser, option_value, probe_options, render
from edge_gateway.core.model import Reading


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_probe_parser(parser.add_subparsers(dest="probe", required=True))
    return parser.parse_args(["serial", *argv])


def test_option_values_are_toml_when_they_can_be() -> None:
    assert option_value("7") == 7
    assert option_value("true") is True
    assert option_value('["a", "b"]') == ["a", "b"]
    assert option_value("xy-md02") == "xy-md02"


def test_address_goes_to_the_drivers_own_option() -> None:
    assert probe_options(
        parse("/dev/x", "--driver", "modbus-rtu", "--address", "3", "--option", "map=pm")
    ) == {
        "slave": 3,
        "map": "pm",
    }
    assert probe_options(parse("/dev/x", "--driver", "radar", "--address", "2")) == {"address": 2}
    with pytest.raises(ValueError, match="does not apply"):
        probe_options(parse("/dev/x", "--driver", "nmea", "--address", "2"))
    with pytest.raises(ValueError, match="expected key=value"):
        probe_options(parse("/dev/x", "--driver", "nmea", "--option", "max_line_bytes"))


def test_bad_options_exit_2_naming_the_problem(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse("/dev/x", "--driver", "modbus-rtu", "--address", "300", "--option", "map=pm")
    assert args.func(args) == 2
    assert "slave: Input should be less than or equal to 247" in capsys.readouterr().err


def test_missing_port_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    args = parse(f"{tmp_path}/nothing", "--driver", "radar")
    assert args.func(args) == 2
    assert "cannot open" in capsys.readouterr().err


def test_formats() -> None:
    readings = [Reading("weather", {"sensor": "wx"}, {"temp_c": 30.5}, 7)]
    assert render(readings, "lp") == "weather,sensor=wx temp_c=30.5 7"
    assert '"measurement": "weather"' in render(readings, "json")
    assert render(readings, "table").split() == ["weather", "sensor=wx", "temp_c=30.5"]
