"""The NOC's broker login (`[fleet] username` and `password_file`) over the bridge's `[mqtt]`."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_gateway.bridge.config import BridgeMqttSection
from edge_gateway.bridge.fleet import noc_connection
from edge_gateway.bridge.fleet_settings import FleetSection
from edge_gateway.core.config import ConfigError, Secret
from edge_gateway.core.validation import validate


def _mqtt(tmp_path: Path) -> BridgeMqttSection:
    ca = tmp_path / "ca.pem"
    ca.write_text("not read here\n")
    return validate(
        BridgeMqttSection,
        {"url": "mqtts://127.0.0.1:8883", "ca_file": str(ca), "username": "bridge", "password": "b-pw"},
    )


def test_without_a_fleet_login_the_bridge_login_is_used(tmp_path: Path) -> None:
    mqtt = _mqtt(tmp_path)
    assert noc_connection(mqtt, FleetSection()) is mqtt


def test_the_fleet_login_replaces_user_and_password_and_keeps_the_rest(tmp_path: Path) -> None:
    mqtt = _mqtt(tmp_path)
    (tmp_path / "noc.pw").write_text("noc-pw\n")
    fleet = FleetSection(username="noc", password_file=tmp_path / "noc.pw")
    conn = noc_connection(mqtt, fleet)
    assert isinstance(conn, BridgeMqttSection)
    assert (conn.username, conn.password) == ("noc", Secret("noc-pw"))
    assert (conn.url, conn.ca_file, conn.client_id) == (mqtt.url, mqtt.ca_file, mqtt.client_id)


def test_an_unreadable_fleet_password_file_is_a_config_problem(tmp_path: Path) -> None:
    fleet = FleetSection(username="noc", password_file=tmp_path / "absent.pw")
    with pytest.raises(ConfigError, match=r"password_file: cannot read .*absent.pw"):
        noc_connection(_mqtt(tmp_path), fleet)
