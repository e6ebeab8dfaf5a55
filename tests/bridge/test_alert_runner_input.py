"""The alert engine reads every gateway's status and data on its own connection: hostile bytes there
must be skipped at a bounded cost, never crash the engine (it restarts, the retained message returns)."""

from __future__ import annotations

import gzip

import pytest

from edge_gateway.alerts.rules import load_rules
from edge_gateway.bridge.alert_runner import MAX_STATUS_BYTES, AlertRunner
from edge_gateway.bridge.config import AlertsSection, BridgeMqttSection


@pytest.fixture
def runner() -> AlertRunner:
    return AlertRunner(AlertsSection(), load_rules(), BridgeMqttSection())


@pytest.mark.parametrize(
    "payload",
    [
        b"[" * 100_000,  # nested deeper than the JSON parser's recursion limit
        b"[" * 50_000,
        b'{"state": "offline"}' + b" " * MAX_STATUS_BYTES,  # well-formed, but over the bound
        b"\xff\xfe not json",
        b'"just a string"',
    ],
)
def test_a_hostile_status_is_skipped(runner: AlertRunner, payload: bytes) -> None:
    runner.status_message("edge/gw-x/status", payload)
    assert runner.engine.tick().fired == []


def test_a_plain_status_is_read(runner: AlertRunner) -> None:
    runner.status_message("edge/gw-x/status", b'{"state": "offline"}')
    assert [alert.labels for alert in runner.engine.tick().fired] == [
        (("alertname", "GatewayOffline"), ("gateway", "gw-x"), ("severity", "critical"))
    ]


def test_a_gzip_bomb_on_the_data_topic_is_skipped(
    runner: AlertRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("edge_gateway.bridge.alert_runner.MAX_MESSAGE_BYTES", 64 * 2**10)
    bomb = gzip.compress(b"device_status,device=a up=false 1\n" * 4096)
    runner.data_message("edge/gw-x/data", bomb, "application/gzip")
    runner.data_message("edge/gw-x/data", b"\x1f\x8b garbage", "application/gzip")
    assert not runner.engine.live("gw-x")
