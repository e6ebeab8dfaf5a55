"""The per-device collector: status every cycle, deadline, backoff while down, logs once, privacy."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import pytest

from edge_gateway.agent.collectors.snmp import ProfileError, build_collectors, settings_for
from edge_gateway.agent.collectors.snmp.backend import Credentials, SnmpBackend, SnmpBackendError, Value
from edge_gateway.agent.collectors.snmp.config import SnmpSection
from edge_gateway.agent.collectors.snmp.poller import SnmpPoller
from edge_gateway.agent.collectors.snmp.profile import MAX_REQUESTS_PER_POLL, load_profiles
from edge_gateway.agent.config import AgentConfig
from edge_gateway.agent.scheduler import Accumulator, SourceHealth
from edge_gateway.core.config import ConfigError
from edge_gateway.core.validation import validate
from tests.collectors.snmp.fakes import FakeBackend, FakeDevice
from tests.collectors.snmp.walks import MIKROTIK, load_walk, mac_forms

KEY = "a client hash key of some length"


def fleet(monkeypatch: pytest.MonkeyPatch, devices: dict[int, FakeDevice]) -> list[FakeBackend]:
    """Route each poller's backend to the fake device of its port."""
    opened: list[FakeBackend] = []

    async def open_fake(name: str, credentials: Credentials) -> SnmpBackend:
        backend = FakeBackend(devices[credentials.port])
        opened.append(backend)
        return backend

    monkeypatch.setattr("edge_gateway.agent.collectors.snmp.poller.open_backend", open_fake)
    return opened


def pollers(section: dict[str, Any]) -> list[SnmpPoller]:
    config = validate(SnmpSection, section)
    settings = settings_for(config)
    return [SnmpPoller(d, "site", settings, asyncio.Semaphore(8)) for d in config.devices]


def device(port: int, **extra: Any) -> dict[str, Any]:
    return {"name": f"ap-{port}", "host": f"127.0.0.1:{port}", "community": "public", **extra}


async def cycle(poller: SnmpPoller, health: SourceHealth) -> Accumulator:
    acc = Accumulator(health)
    await poller.collect(acc)
    return acc


def status(acc: Accumulator) -> dict[str, Any]:
    return dict(next(r for r in acc.readings if r.measurement == "device_status").fields)


async def test_a_good_poll_writes_readings_and_status(monkeypatch: pytest.MonkeyPatch) -> None:
    fleet(monkeypatch, {1: FakeDevice(load_walk(MIKROTIK))})
    (poller,) = pollers({"devices": [device(1)]})
    acc = await cycle(poller, SourceHealth())
    assert status(acc)["up"] is True and status(acc)["error"] == ""
    assert status(acc)["latency_ms"] >= 0
    assert poller.profile is not None and poller.profile.name == "mikrotik"
    assert {r.measurement for r in acc.readings} == {"ap", "ap_radio", "ap_iface", "device_status"}


async def test_dead_device_backs_off_logs_once_and_recovers_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeDevice(load_walk(MIKROTIK), dead=True)
    opened = fleet(monkeypatch, {1: fake})
    (poller,) = pollers({"devices": [device(1, interval_s=10)], "down_backoff_max_s": 40})
    health = SourceHealth()
    caplog.set_level(logging.INFO, logger="edge_gateway.agent.scheduler")
    results = [await cycle(poller, health) for _ in range(10)]
    assert all(status(acc)["up"] is False for acc in results)  # a status every cycle, polled or not
    assert len(opened) < 10  # fewer attempts than cycles: backing off
    assert sum("(backing off)" in status(acc)["error"] for acc in results) == 10 - len(opened)
    assert sum("is down" in r.message for r in caplog.records) == 1
    fake.dead = False
    for _ in range(6):
        acc = await cycle(poller, health)
    assert status(acc)["up"] is True
    assert sum("recovered" in r.message for r in caplog.records) == 1


async def test_a_slow_device_misses_its_deadline_without_delaying_another(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fleet(monkeypatch, {1: FakeDevice(load_walk(MIKROTIK), delay_s=0.3), 2: FakeDevice(load_walk(MIKROTIK))})
    slow, fast = pollers({"devices": [device(1, deadline_s=1.0), device(2)]})
    finished: list[str] = []

    async def run(poller: SnmpPoller) -> Accumulator:
        acc = await cycle(poller, SourceHealth())
        finished.append(poller.device.name)
        return acc

    slow_acc, fast_acc = await asyncio.gather(run(slow), run(fast))
    assert finished == ["ap-2", "ap-1"]
    assert status(slow_acc) == {
        "up": False,
        "latency_ms": status(slow_acc)["latency_ms"],
        "error": "deadline exceeded",  # it answered, too slowly to finish: late (APLate)
        "requests": status(slow_acc)["requests"],
    }
    assert status(slow_acc)["requests"] > 1
    assert status(fast_acc)["up"] is True


async def test_a_device_silent_until_its_deadline_is_not_called_late(monkeypatch: pytest.MonkeyPatch) -> None:
    """A deadline shorter than the SNMP timeout cuts a silent device's poll too: with no reply at all
    it is down (APDown), not "answers, but too slowly" (APLate)."""
    fleet(monkeypatch, {1: FakeDevice(load_walk(MIKROTIK), delay_s=5.0)})
    (poller,) = pollers({"devices": [device(1, deadline_s=0.5)]})
    acc = await cycle(poller, SourceHealth())
    assert status(acc)["up"] is False and status(acc)["error"] == "no answer within the deadline"


async def test_no_raw_mac_in_readings_or_logs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    values = load_walk(MIKROTIK)
    fake = FakeDevice(values, repeat_at="1.3.6.1.4.1.14988.1.1.1.2.1.3.8.140.44.21.110.185.9")
    fleet(monkeypatch, {1: fake})
    (poller,) = pollers({"devices": [device(1)], "clients": True, "client_hash_key": KEY})
    caplog.set_level(logging.DEBUG)
    acc = await cycle(poller, SourceHealth())
    assert "not increasing" in status(acc)["error"]  # the registration walk broke, the rest stands
    fake.repeat_at = None
    acc2 = await cycle(poller, SourceHealth())
    assert len([r for r in acc2.readings if r.measurement == "ap_client"]) == 11
    text = repr(acc.readings) + repr(acc2.readings) + caplog.text
    macs = [
        tuple(int(p) for p in oid.split(".")[-7:-1])
        for oid in values
        if oid.startswith("1.3.6.1.4.1.14988.1.1.1.2.1.3.")
    ]
    for mac in macs:
        for form in mac_forms(mac):
            assert form not in text


def test_unknown_profile_stops_the_start() -> None:
    with pytest.raises(ProfileError, match="unknown profile 'cisco'"):
        pollers({"devices": [device(1, profile="cisco")]})


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"clients": True}, "client_hash_key"),
        ({"devices": [device(1, clients=True)]}, "client_hash_key"),
        ({"client_hash_key": "short"}, "16 characters"),
    ],
)
def test_client_readings_need_a_key(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        validate(AgentConfig, {"gateway": {"id": "gw"}, "snmp": section})


def test_device_settings_fall_back_to_the_section() -> None:
    first, second = pollers({"backend": "pysnmp", "devices": [device(1), device(2, backend="gufo")]})
    assert (first.backend_name, second.backend_name) == ("pysnmp", "gufo")
    assert first.deadline_s == pytest.approx(27.0)


CLIENT_TABLE = "1.3.6.1.4.1.14988.1.1.1.2.1.3"  # MikroTik's registration table: its first column


async def test_a_healthy_poll_is_well_within_the_default_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeDevice(load_walk(MIKROTIK))
    fleet(monkeypatch, {1: fake})
    (poller,) = pollers({"devices": [device(1)], "clients": True, "client_hash_key": KEY})
    for _ in range(2):
        fake.requests = 0
        acc = await cycle(poller, SourceHealth())
        assert status(acc)["requests"] == fake.requests
    assert status(acc)["tables_capped"] == 0 and status(acc)["error"] == ""
    assert fake.requests * 10 < MAX_REQUESTS_PER_POLL


async def test_an_endless_table_is_capped_every_poll_counted_and_logged_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeDevice(load_walk(MIKROTIK), endless=CLIENT_TABLE)
    fleet(monkeypatch, {1: fake})
    section = {"devices": [device(1, max_rows_per_table=50)], "clients": True, "client_hash_key": KEY}
    (poller,) = pollers(section)
    caplog.set_level(logging.INFO, logger="edge_gateway.agent.collectors.snmp.poller")
    for _ in range(3):
        fake.requests = 0
        acc = await cycle(poller, SourceHealth())
        assert status(acc)["up"] is True and status(acc)["tables_capped"] == 1
        assert "cut at 50 rows (max_rows_per_table)" in status(acc)["error"]
        assert status(acc)["requests"] == fake.requests < 40  # not the 10,000-row walk of before
    assert sum("cut at 50 rows" in r.message for r in caplog.records) == 1
    fake.endless = None
    acc = await cycle(poller, SourceHealth())
    assert status(acc)["tables_capped"] == 0
    assert sum("within max_rows_per_table again" in r.message for r in caplog.records) == 1


async def test_a_poll_over_budget_fails_and_is_backed_off(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeDevice(load_walk(MIKROTIK), endless=CLIENT_TABLE)
    fleet(monkeypatch, {1: fake})
    section = {"devices": [device(1, interval_s=10, max_requests_per_poll=20)], "down_backoff_max_s": 80}
    section |= {"clients": True, "client_hash_key": KEY}
    (poller,) = pollers(section)
    results = [await cycle(poller, SourceHealth()) for _ in range(8)]
    assert status(results[0])["up"] is False and status(results[0])["requests"] == 20
    assert "request budget of 20 per poll spent" in status(results[0])["error"]
    assert fake.requests <= 4 * 20  # 4 polls of 8 cycles: backed off like a dead device
    assert sum("(backing off)" in status(acc)["error"] for acc in results) == 4


async def test_a_device_whose_replies_cannot_be_decoded_is_backed_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Garbled(FakeBackend):
        async def get_many(self, oids: Sequence[str]) -> dict[str, Value]:
            self.device.requests += 1
            raise SnmpBackendError("PySnmpDecodeError: incomplete")

    fake = FakeDevice(load_walk(MIKROTIK))

    async def open_garbled(name: str, credentials: Credentials) -> SnmpBackend:
        return Garbled(fake)

    monkeypatch.setattr("edge_gateway.agent.collectors.snmp.poller.open_backend", open_garbled)
    (poller,) = pollers({"devices": [device(1, interval_s=10)], "down_backoff_max_s": 80})
    results = [await cycle(poller, SourceHealth()) for _ in range(8)]
    assert all(status(acc)["up"] is False for acc in results)
    assert fake.requests == 4 and "decode" in status(results[0])["error"].lower()


def test_profiles_handed_over_are_used_as_they_are(monkeypatch: pytest.MonkeyPatch) -> None:
    """The running agent passes the profiles its config check loaded: nothing is loaded again."""
    profiles = load_profiles()

    def no_loading(*_args: object) -> None:
        raise AssertionError("profiles loaded again")

    monkeypatch.setattr("edge_gateway.agent.collectors.snmp.load_profiles", no_loading)
    section = validate(SnmpSection, {"devices": [device(1, profile="mikrotik")]})
    assert settings_for(section, profiles).profiles is profiles
    config = validate(AgentConfig, {"gateway": {"id": "gw"}, "snmp": {"devices": [device(1), device(2)]}})
    assert [c.name for c in build_collectors(config, profiles)] == ["snmp[ap-1]", "snmp[ap-2]"]
