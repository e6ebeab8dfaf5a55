from __future__ import annotations

from pathlib import Path

import pytest

from edge_gateway.alerts.alertmanager import payload
from edge_gateway.alerts.engine import Alert, Engine
from edge_gateway.alerts.rules import load_rules
from edge_gateway.core.config import ConfigError
from edge_gateway.core.model import Reading

NOW_S = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now_s = NOW_S

    def __call__(self) -> float:
        return self.now_s


def status(
    device: str, up: bool, at_s: float, kind: str = "snmp", site: str = "Kejaksan", error: str = ""
) -> Reading:
    tags = {"device": device, "kind": kind, "site": site}
    error = error or ("" if up else "NoResponse: no response")
    return Reading("device_status", tags, {"up": up, "latency_ms": 1.0, "error": error}, int(at_s * 1e9))


def health(at_s: float) -> Reading:
    return Reading("gateway", {}, {"buffer_readings": 0, "oldest_s": 0.0}, int(at_s * 1e9))


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
    assert changes.fired[0].summary == "Access point ap-1 at Kejaksan has not answered 3 polls in a row"
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
    for _ in range(10):  # the gateway is alive, the sensor silent
        clock.now_s += 10
        engine.observe("gw-1", [status("ap-1", True, clock.now_s)])
    assert names(engine.tick().fired) == ["SensorStale:int01-pm"]
    engine.observe("gw-2", [status("int02-pm", True, clock.now_s, kind="modbus-rtu")])
    clock.now_s += 100  # then gw-2 goes away: the sensor behind it is not judged on its own
    engine.gateway_status("gw-2", "offline")
    assert names(engine.tick().fired) == ["GatewayOffline:gw-2"]
    engine.gateway_status("gw-2", "online")
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


def test_late_and_silent_are_different_alerts(engine: Engine) -> None:
    late = "deadline exceeded"
    engine.observe("gw-1", [status("ap-slow", False, NOW_S - 20 + i * 10, error=late) for i in range(3)])
    engine.observe("gw-1", [status("ap-mute", False, NOW_S - 20 + i * 10) for i in range(3)])
    cut = "no answer within the deadline"  # silent, and the deadline came before the SNMP timeout
    engine.observe("gw-1", [status("ap-cut", False, NOW_S - 20 + i * 10, error=cut) for i in range(3)])
    fired = {a.label_map["device"]: a for a in engine.tick().fired}
    assert names(list(fired.values())) == ["APDown:ap-cut", "APDown:ap-mute", "APLate:ap-slow"]
    assert "not answered" in fired["ap-mute"].summary and "not answered" not in fired["ap-slow"].summary
    assert "too slowly" in fired["ap-slow"].summary and fired["ap-slow"].label_map["severity"] == "warning"
    engine.observe("gw-1", [status("ap-slow", False, NOW_S + 10)])  # now it does not answer at all
    assert names(engine.tick().resolved) == ["APLate:ap-slow"]


def test_a_planned_stop_pages_nobody_a_vanished_gateway_does(engine: Engine, clock: Clock) -> None:
    engine.observe("gw-1", [health(NOW_S), status("int01-pm", True, NOW_S, kind="modbus-rtu")])
    engine.gateway_status("gw-1", "stopped")  # systemctl stop: the agent says goodbye
    clock.now_s += 600
    assert engine.tick().fired == [] and engine.active() == []  # no GatewayOffline, no Silent, no Stale
    engine.gateway_status("gw-1", "online")
    engine.observe("gw-1", [health(clock.now_s), status("int01-pm", True, clock.now_s, kind="modbus-rtu")])
    clock.now_s += 30
    assert engine.tick().fired == []
    engine.gateway_status("gw-1", "offline")  # the Last Will: gone without a goodbye
    assert names(engine.tick().fired) == ["GatewayOffline:gw-1"]


def test_no_false_stale_after_a_restart_that_followed_an_outage(engine: Engine, clock: Clock) -> None:
    sensor = "int01-pm"
    engine.observe("gw-1", [health(NOW_S), status(sensor, True, NOW_S, kind="modbus-rtu")])
    engine.gateway_status("gw-1", "offline")
    clock.now_s += 300  # a long outage
    assert names(engine.tick().fired) == ["GatewayOffline:gw-1"]
    engine.gateway_status("gw-1", "online")  # the gateway restarts; its health comes first
    restart_s = clock.now_s
    engine.observe("gw-1", [health(clock.now_s)])
    clock.now_s += 10
    engine.observe("gw-1", [health(clock.now_s)])
    changes = engine.tick()
    assert changes.fired == [] and names(changes.resolved) == ["GatewayOffline:gw-1"]
    engine.observe("gw-1", [status(sensor, True, clock.now_s, kind="modbus-rtu")])  # its first poll
    for _ in range(10):  # and then it really goes quiet, while the gateway reports
        clock.now_s += 10
        engine.observe("gw-1", [health(clock.now_s)])
        if clock.now_s < restart_s + 90:
            assert engine.tick().fired == []
    assert names(engine.tick().fired) == [f"SensorStale:{sensor}"]


def test_a_removed_device_resolves_and_is_forgotten(engine: Engine, clock: Clock) -> None:
    engine.observe("gw-1", [status("ap-1", False, NOW_S - 20 + i * 10) for i in range(3)])
    assert names(engine.tick().fired) == ["APDown:ap-1"]
    removed = Reading(
        "device_status", {"device": "ap-1", "kind": "snmp"}, {"removed": True}, int(NOW_S * 1e9) + 1
    )
    engine.observe("gw-1", [removed])
    assert names(engine.tick().resolved) == ["APDown:ap-1"]
    engine.observe("gw-1", [status("ap-1", False, NOW_S)])  # a late redelivery changes nothing
    clock.now_s += 60
    engine.observe("gw-1", [health(clock.now_s)])
    changes = engine.tick()
    assert changes.fired == changes.resolved == [] and engine.active() == []
    assert engine.readings(changes, 1) == []  # not re-sent, not on the board


def test_devices_behind_a_gateway_we_cannot_see_are_unknown(engine: Engine, clock: Clock) -> None:
    engine.observe("gw-1", [status("ap-1", False, NOW_S - 20 + i * 10) for i in range(3)])
    engine.observe("gw-1", [status("ap-2", True, NOW_S - 20 + i * 10) for i in range(3)])
    assert names(engine.tick().fired) == ["APDown:ap-1"]
    engine.gateway_status("gw-1", "offline")
    clock.now_s += 3600  # an hour of nothing: neither resolved nor newly down
    changes = engine.tick()
    assert names(changes.fired) == ["GatewayOffline:gw-1"] and changes.resolved == []
    state = {a.label_map["alertname"]: a.unknown for a in engine.active()}
    assert state == {"APDown": True, "GatewayOffline": False}
    [point] = [r for r in engine.readings(changes, 1) if r.tags["alertname"] == "APDown"]
    assert point.fields["firing"] is True and point.fields["unknown"] is True
    bodies = payload(engine.active(), [], clock.now_s, 60)
    assert {"summary": point.fields["summary"], "state": "unknown"} in [b["annotations"] for b in bodies]
    # Back, draining the backlog: old readings say ap-1 was down all along, ap-2 too; no news.
    engine.gateway_status("gw-1", "online")
    backlog = [NOW_S + 60 * i for i in range(30)]
    engine.observe("gw-1", [status("ap-2", False, at_s) for at_s in backlog])
    changes = engine.tick()
    assert changes.fired == [] and names(changes.resolved) == ["GatewayOffline:gw-1"]
    assert [a.unknown for a in engine.active()] == [True]  # ap-1: nothing fresh about it yet
    engine.observe("gw-1", [status("ap-1", True, clock.now_s)])  # fresh: seen again, and up
    assert names(engine.tick().resolved) == ["APDown:ap-1"]


def test_pm25_is_judged_on_the_ispu_24_hour_mean(engine: Engine, clock: Clock) -> None:
    def pm25(value: float, at_s: float) -> Reading:
        tags = {"sensor": "int01-pm", "site": "Kejaksan", "bus": "b"}
        return Reading("air_quality", tags, {"pm25": value}, int(at_s * 1e9))

    day = [NOW_S - 86_400 + 60 * i for i in range(1, 1440)]
    engine.observe("gw-1", [pm25(20.0, at_s) for at_s in day])
    engine.observe("gw-1", [pm25(200.0, NOW_S - 90 + 10 * i) for i in range(10)])  # a 1.5-minute plume
    assert engine.tick().fired == []  # the daily mean is still "Sedang"
    clock.now_s += 86_400  # a day of 60 µg/m³ later
    engine.observe("gw-1", [pm25(60.0, NOW_S + 60 * i) for i in range(1, 1441)])
    assert names(engine.tick().fired) == ["PM25Unhealthy:int01-pm"]


def test_a_mean_needs_most_of_its_window(engine: Engine) -> None:
    tags = {"sensor": "int02-pm", "site": "Kejaksan", "bus": "b"}
    hours = [Reading("air_quality", tags, {"pm25": 300.0}, int((NOW_S - 3600 * h) * 1e9)) for h in range(17)]
    engine.observe("gw-1", hours)
    assert engine.tick().fired == []  # 17 of 24 hours: too few for a daily mean


def test_a_status_alone_is_no_silence(engine: Engine, clock: Clock) -> None:
    """The retained `online` a bridge gets on subscribing comes before the gateway's first health
    reading: that is not a silent gateway."""
    engine.gateway_status("gw-4", "online")
    clock.now_s += 5
    assert engine.tick().fired == []
    engine.observe("gw-4", [health(clock.now_s)])
    clock.now_s += 10
    assert engine.tick().fired == []


def test_a_rules_file_that_is_not_text_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_bytes(b"[[rule]]\n\xf5\xff\x00")
    with pytest.raises(ConfigError) as caught:
        load_rules(path)
    assert caught.value.problems[0].startswith(f"{path}: 'utf-8' codec can't decode byte 0xf5")
