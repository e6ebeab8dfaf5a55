"""Fixtures that start the real servers on loopback, free ports and temp folders, and always stop them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edge_gateway_dev import servers
from tests.firmware_sim.hours import pytest_generate_tests, sim_start_s
from tests.integration.shipped_broker import ShippedBroker, shipped_broker

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


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[ShippedBroker]:
    """Mosquitto as shipped with the gateways gw-1 and gw-2 and the NOC's login (the fleet tests'; a
    test module with a broker of its own defines its own `broker`)."""
    with shipped_broker(tmp_path / "broker", ("gw-1", "gw-2"), ()) as shipped:
        shipped.dynsec("add-noc", "noc", password=shipped.password("noc"))
        yield shipped
