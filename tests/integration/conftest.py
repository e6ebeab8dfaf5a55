"""Fixtures that start the real servers on loopback, free ports and temp folders, and always stop them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edge_gateway_dev import servers
from tests.firmware_sim.hours import pytest_generate_tests, sim_start_s

__all__ = ["pytest_generate_tests", "sim_start_s"]  # the simulated hours (tests/firmware_sim/hours.py)


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[servers.Server]:
    with servers.mosquitto(tmp_path / "mosquitto") as server:
        yield server


@pytest.fixture
def influxdb(tmp_path: Path) -> Iterator[servers.Server]:
    with servers.influxdb(tmp_path / "influxdb") as server:
        yield server


@pytest.fixture
def snmpd(tmp_path: Path) -> Iterator[servers.Server]:
    with servers.snmpd(tmp_path / "snmpd") as server:
        yield server
