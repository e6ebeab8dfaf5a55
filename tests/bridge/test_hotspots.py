"""The public hotspot feed's content: bands not counts, three states, nothing without a position."""

from __future__ import annotations

from edge_gateway.alerts.hotspots import Hotspots, RateLimit, clients_band
from edge_gateway.core.model import Reading

NOW_S = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now_s = NOW_S

    def __call__(self) -> float:
        return self.now_s


def status(device: str, up: bool, at_s: float, position: bool = True) -> Reading:
    fields: dict[str, float | bool | str] = {"up": up, "error": "" if up else "NoResponse: 10.0.0.7"}
    if position:
        fields |= {"lat": -6.7, "lon": 108.55}
    return Reading(
        "device_status", {"device": device, "kind": "snmp", "site": "Kejaksan"}, fields, int(at_s * 1e9)
    )


def ap(device: str, clients: int, at_s: float) -> Reading:
    return Reading("ap", {"device": device, "site": "Kejaksan"}, {"clients": clients}, int(at_s * 1e9))


def test_bands_states_and_only_positioned_aps() -> None:
    clock, live = Clock(), {"gw": True}
    hotspots = Hotspots(lambda gateway: live[gateway], clock)
    hotspots.observe("gw", [status("ap-1", True, NOW_S), ap("ap-1", 35, NOW_S)])
    hotspots.observe("gw", [status("ap-2", False, NOW_S), status("ap-3", True, NOW_S, position=False)])
    assert [(r["status"], r["clients"]) for r in hotspots.records()] == [("up", "busy"), ("down", None)]
    assert {key for r in hotspots.records() for key in r} == {"site", "lat", "lon", "status", "clients"}
    live["gw"] = False  # its gateway went away: we cannot say
    assert [r["status"] for r in hotspots.records()] == ["unknown", "unknown"]
    live["gw"] = True
    clock.now_s += 600  # nothing from these APs for ten minutes
    assert [r["status"] for r in hotspots.records()] == ["unknown", "unknown"]
    removed = Reading(
        "device_status", {"device": "ap-1", "kind": "snmp"}, {"removed": True}, int(clock.now_s * 1e9)
    )
    hotspots.observe("gw", [removed])
    assert len(hotspots.records()) == 1


def test_clients_are_a_band() -> None:
    assert [clients_band(n) for n in (None, 0, 9, 10, 39, 40, 400)] == [
        None, "quiet", "quiet", "busy", "busy", "full", "full"
    ]  # fmt: skip


def test_the_rate_limit_is_per_client_and_refills() -> None:
    clock = Clock()
    limit = RateLimit(60, clock)  # one a second, bursts of 15
    assert all(limit.wait_s("10.1.1.1") == 0 for _ in range(15))
    assert limit.wait_s("10.1.1.1") > 0 and limit.wait_s("10.1.1.2") == 0
    clock.now_s += 1
    assert limit.wait_s("10.1.1.1") == 0
