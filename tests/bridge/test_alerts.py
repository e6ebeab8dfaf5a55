from __future__ import annotations

from pathlib import Path

import pytest

from bridge.alerts.alertmanager import payload
from bridge.alerts.engine import Alert, Engine
from bridge.alerts.rules import load_rules
from edge.config import ConfigError
from edge.model import Reading

NOW_S = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now_s = NOW_S

    def __call__(self) -> float:
        return self.now_s


def status(device: str, up: bool, at_s: float, kind: str = "snmp", site: str = "Kejaksan") -> Reading:
    tags = {"device": device, "kind": kind, "site": site}
    return Reading("device_status", tags, {"up": up, "latency_ms": 1.0, "error": ""}, int(at_s * 1e9))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(clock: Clock) -> Engine:
    return Engine(load_rules(), max_age_s=300, clock=clock)


def names(alerts: list[Alert]) -> list[str]:
    return sorted(
        f"{a.label_map['alertname']}:{a.label_map.get('device', a.label_map['gateway'])}" for a in alerts
    )


def test_down_fires_after_three_polls_and_resolves(engine: Engine) -> None:
    engine.observe("gw-1", [status("ap-1", False, NOW_S - 20), status("ap-1", False, NOW_S - 10)])
    assert engine.tick().fired == []  # two misses are a blip, not an alert
    engine.observe("gw-1", [status("ap-1", False, NOW_S)])
    changes = engine.tick()
    assert names(changes.fired) == ["APDown:ap-1"]
    assert changes.fired[0].summary == "Access point ap-1 at Kejaksan has not answered for 3 polls"
    engine.observe("gw-1", [status("ap-1", True, NOW_S + 10)])
    assert names(engine.tick().resolved) == ["APDown:ap-1"]
    assert engine.active() == []


def test_redelivered_readings_do_not_count_twice(engine: Engine) -> None:
    reading = status("ap-1", False, NOW_S)
    for _ in range(5):
        engine.observe("gw-1", [reading])
    assert engine.tick().fired == []


def test_backfill_never_fires_for_the_past(engine: Engine) -> None:
    hour_ago = NOW_S - 3600
    engine.observe("gw-1", [status("ap-1", False, hour_ago + i * 10) for i in range(10)])
    engine.observe("gw-1", [status("ap-1", True, hour_ago + 100 + i * 10) for i in range(10)])
    assert engine.tick().fired == []  # down for a while an hour ago, fine since: nothing to page about
    engine.observe("gw-1", [status("ap-2", False, hour_ago + i * 10) for i in range(20)])
    assert engine.tick().fired == []  # still down at the end of the backlog, but the backlog is old
    engine.observe("gw-1", [status("ap-2", False, NOW_S - 20 + i * 10) for i in range(3)])
    assert names(engine.tick().fired) == ["APDown:ap-2"]  # now it is news


def test_stale_only_while_the_gateway_delivers(engine: Engine, clock: Clock) -> None:
    engine.observe("gw-1", [status("int01-pm", True, NOW_S, kind="modbus-rtu"), status("ap-1", True, NOW_S)])
    clock.now_s += 100
    engine.observe("gw-1", [status("ap-1", True, clock.now_s)])  # the gateway is alive, the sensor silent
    assert names(engine.tick().fired) == ["SensorStale:int01-pm"]
    engine.observe("gw-2", [status("int02-pm", True, clock.now_s, kind="modbus-rtu")])
    clock.now_s += 100  # then gw-2 goes away: the sensor behind it is not judged on its own
    engine.gateway_status("gw-2", online=False)
    assert names(engine.tick().fired) == ["GatewayOffline:gw-2"]
    engine.gateway_status("gw-2", online=True)
    assert names(engine.tick().resolved) == ["GatewayOffline:gw-2"]


def test_a_connected_but_silent_gateway_is_one_alert(engine: Engine, clock: Clock) -> None:
    health = Reading("gateway", {}, {"buffer_readings": 0, "oldest_s": 0.0}, int(NOW_S * 1e9))
    engine.observe("gw-3", [health, status("int03-pm", True, NOW_S, kind="modbus-rtu")])
    clock.now_s += 200
    assert names(engine.tick().fired) == ["GatewaySilent:gw-3"]


def test_thresholds_per_site(engine: Engine) -> None:
    def noise(site: str, laeq_db: float, at_s: float) -> Reading:
        tags = {"sensor": f"noise-{site[:3]}", "site": site, "bus": "b"}
        return Reading("noise", tags, {"laeq_db": laeq_db}, int(at_s * 1e9))

    for i in range(5):
        engine.observe("gw-1", [noise("Keraton Kasepuhan", 65.0, NOW_S - 50 + i * 10)])
        engine.observe("gw-1", [noise("Pasar Kanoman", 65.0, NOW_S - 50 + i * 10)])
    fired = engine.tick().fired
    assert [a.label_map["site"] for a in fired] == ["Keraton Kasepuhan"]  # its limit is 60, the market's 70


def test_alerts_measurement_and_alertmanager_payload(engine: Engine) -> None:
    engine.observe("gw-1", [status("ap-1", False, NOW_S - 20 + i * 10) for i in range(3)])
    changes = engine.tick()
    [point] = engine.readings(changes, 123)
    assert point.measurement == "alerts" and point.fields["firing"] is True
    assert point.tags["alertname"] == "APDown" and point.tags["gateway"] == "gw-1"
    [body] = payload(changes.fired, [], NOW_S, 60)
    assert body["labels"] == {
        "alertname": "APDown",
        "device": "ap-1",
        "gateway": "gw-1",
        "severity": "critical",
        "site": "Kejaksan",
    }
    assert body["startsAt"] == "2027-01-15T08:00:00Z" and body["endsAt"] == "2027-01-15T08:03:00Z"


def test_a_bad_rules_file_names_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        """
        [[rule]]
        name = "A"
        kind = "threshold"
        measurement = "ap"
        field = "x"
        [[rule]]
        name = "A"
        kind = "nope"
        """
    )
    with pytest.raises(ConfigError) as caught:
        load_rules(path)
    text = "\n".join(caught.value.problems)
    assert "rule[0]: a threshold rule needs value" in text and "rule[1].kind" in text
