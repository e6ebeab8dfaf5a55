"""The camera alerts on the shipped rules: down, frozen, clock drift; and cameras stay out of the
serial sensors' rules."""

from __future__ import annotations

from edge_gateway.alerts.engine import Alert, Engine
from edge_gateway.alerts.grafana import provisioning_text
from edge_gateway.alerts.rules import load_rules
from edge_gateway.core.model import FieldValue, Reading

NOW_S = 1_800_000_000.0
TAGS = {"device": "cbn-int-03-cam-2", "site": "Simpang Gunungsari"}


def at(offset_s: float) -> int:
    return int((NOW_S + offset_s) * 1e9)


def camera(offset_s: float, **fields: FieldValue) -> Reading:
    return Reading("camera", TAGS, {"up": True, "rtsp_ok": True, **fields}, at(offset_s))


def status(offset_s: float, up: bool) -> Reading:
    error = "" if up else "ConnectionRefusedError: [Errno 111] Connect call failed"
    return Reading("device_status", {**TAGS, "kind": "camera"}, {"up": up, "error": error}, at(offset_s))


def engine() -> Engine:
    return Engine(load_rules(), max_age_s=300, clock=lambda: NOW_S)


def fired(alerts: list[Alert]) -> list[str]:
    return sorted(alert.label_map["alertname"] for alert in alerts)


def test_dead_camera_is_camera_down_not_sensor_down() -> None:
    rules = engine()
    rules.observe("gw-1", [status(-60, False), status(0, False)])
    assert fired(rules.tick().fired) == ["CameraDown"]


def test_frozen_picture_fires_and_resolves() -> None:
    rules = engine()
    rules.observe("gw-1", [camera(0, frozen=True)])
    assert fired(rules.tick().fired) == ["CameraFrozen"]
    rules.observe("gw-1", [camera(1, frozen=False)])
    assert fired(rules.tick().resolved) == ["CameraFrozen"]


def test_clock_drift_either_way_over_two_checks() -> None:
    rules = engine()
    rules.observe("gw-1", [camera(-60, clock_drift_s=-40.0, clock_error_s=40.0)])
    assert rules.tick().fired == []
    rules.observe("gw-1", [camera(0, clock_drift_s=-41.0, clock_error_s=41.0)])
    assert fired(rules.tick().fired) == ["CameraClockDrift"]


def test_grafana_export_excludes_cameras_from_sensor_rules() -> None:
    text = provisioning_text(load_rules())
    assert """"kind" != 'snmp' AND "kind" != 'camera'""" in text  # a plain YAML scalar, one line
