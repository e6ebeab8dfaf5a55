"""`edge sim fleet` as a user runs it: a process that serves the field and writes an agent config."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
import serial

from edge_gateway_dev import servers

pytestmark = pytest.mark.integration


def start(tmp_path: Path, name: str, *extra: str) -> tuple[subprocess.Popen[bytes], Path, Path]:
    config, ports = tmp_path / f"{name}.toml", tmp_path / f"{name}-ports"
    command = [
        sys.executable,
        "-m",
        "edge_gateway",
        "sim",
        "fleet",
        "--aps",
        "6",
        "--intersections",
        "2",
        "--seed",
        "7",
    ]
    command += ["--config-out", str(config), "--port-dir", str(ports), "--interval-s", "10", *extra]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while not config.exists():
        assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
        assert time.monotonic() < deadline, "no config written"
        time.sleep(0.05)
    return process, config, ports


def stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGINT)
    return process.wait(15)


def sys_object_id(device: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    command = [
        servers.find_binary("snmpget"),
        "-v2c",
        "-c",
        device["community"],
        "-t",
        "0.5",
        "-r",
        "0",
        "-On",
    ]
    return subprocess.run(
        [*command, device["host"], "1.3.6.1.2.1.1.2.0"], capture_output=True, text=True, check=False
    )


def test_fleet_serves_what_its_config_lists_and_stops_cleanly(tmp_path: Path) -> None:
    process, config_path, ports = start(
        tmp_path, "a", "--faults", "ap-002:no_reply;cbn-int-02:rs485.silent=3"
    )
    try:
        config = tomllib.loads(config_path.read_text())
        devices = config["snmp"]["devices"]
        assert [d["name"] for d in devices] == [f"ap-{i:03d}" for i in range(1, 7)]
        for device in devices:
            if device["version"] != "2c":
                continue
            answer = sys_object_id(device)
            if device["name"] == "ap-002":
                assert answer.returncode != 0 and "Timeout" in answer.stderr  # the fault asked for
            else:
                assert answer.returncode == 0 and ".1.3.6.1.4.1." in answer.stdout
        buses = config["serial"]["buses"]
        assert len(buses) == 2 * 3
        assert all(Path(bus["port"]).is_symlink() for bus in buses)
        sensors = [s["name"] for bus in buses for s in bus["sensors"]]
        assert "cbn-int-01-th" in sensors and "cbn-int-02-radar" in sensors
        check = [sys.executable, "-m", "edge_gateway", "check-config", str(config_path)]
        checked = subprocess.run(check, capture_output=True, text=True, timeout=60, check=False)
        assert checked.returncode == 0, checked.stderr  # the agent accepts what the fleet wrote
    finally:
        assert stop(process) == 0
    assert not list(ports.iterdir())  # every port unplugged on the way out


def test_same_seed_same_fleet(tmp_path: Path) -> None:
    first, config_a, _ = start(tmp_path, "a")
    second, config_b, _ = start(tmp_path, "b")
    try:

        def stable(path: Path) -> str:
            text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", path.read_text())
            return text.replace(str(tmp_path / "a-ports"), "DIR").replace(str(tmp_path / "b-ports"), "DIR")

        assert stable(config_a) == stable(config_b)
    finally:
        assert stop(first) == 0 and stop(second) == 0


def test_a_fault_for_no_device_is_refused(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "edge_gateway", "sim", "fleet", "--aps", "2", "--intersections", "0"]
    command += ["--config-out", str(tmp_path / "x.toml"), "--faults", "ap-099:no_reply"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 2 and "'ap-099' is no device of this fleet" in result.stderr


def test_clock_flag_puts_the_field_at_that_instant_and_time_scale_speeds_it(tmp_path: Path) -> None:
    """At --clock 03:00 WIB, 60x, the GPS of an intersection sends 20:00 UTC of the previous day (what
    a receiver sends at 03:00 in Cirebon), minutes later in simulated time after seconds of real."""
    process, _, ports = start(tmp_path, "night", "--clock", "2026-12-01T03:00+07:00", "--time-scale", "60")
    try:
        with serial.Serial(str(ports / "cbn-int-01-gps"), baudrate=9600, timeout=5) as gps:
            deadline = time.monotonic() + 20
            while not (line := gps.readline()).startswith(b"$GPRMC"):
                assert time.monotonic() < deadline, "no RMC sentence"
        fields = line.decode().split(",")
        hhmmss, ddmmyy = fields[1], fields[9]
        assert ddmmyy == "301126" and hhmmss[:2] == "20" and int(hhmmss[2:4]) < 30, line
    finally:
        assert stop(process) == 0


def test_a_clock_that_is_no_instant_is_refused(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "edge_gateway", "sim", "fleet", "--aps", "1", "--intersections", "0"]
    command += ["--config-out", str(tmp_path / "x.toml"), "--clock", "tonight"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 2 and "not an ISO 8601 instant" in result.stderr
