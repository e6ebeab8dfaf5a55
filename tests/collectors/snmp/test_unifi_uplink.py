"""A UniFi AP's uplink traffic is its VAPs' traffic (it bridges every wireless byte to its wired port):
one `ap_iface` row per VAP tagged `role = uplink`, each VAP's Counter32 its own rate with its own wrap,
what the VAP receives from its clients going out on the uplink and what it sends them coming in."""

from __future__ import annotations

from edge_gateway.agent.collectors.snmp.backend import Value
from tests.collectors.snmp.fakes import FakeDevice
from tests.collectors.snmp.golden import CASES_DIR, read_snmprec
from tests.collectors.snmp.test_readings import by, poll

VAP = "1.3.6.1.4.1.41112.1.6.1.2.1"
RX, TX = f"{VAP}.10", f"{VAP}.16"  # unifiVapRxBytes, unifiVapTxBytes (Counter32)
UPTIMES = ("1.3.6.1.2.1.1.3.0", "1.3.6.1.2.1.25.1.1.0")  # sysUpTime, hrSystemUptime (ticks)
WRAP32 = 2**32


def _int(value: Value) -> int:
    assert isinstance(value, int)
    return value


def _walk() -> dict[str, Value]:
    return read_snmprec(CASES_DIR / "unifi" / "sim-unifi" / "walk.snmprec")


def _later(values: dict[str, Value], seconds: int, grown: dict[str, int]) -> dict[str, Value]:
    """The same AP `seconds` later, the counters in `grown` grown by so many bytes (mod 2^32)."""
    after = dict(values)
    for oid in UPTIMES:
        after[oid] = _int(values[oid]) + seconds * 100
    for oid, delta in grown.items():
        after[oid] = (_int(values[oid]) + delta) % WRAP32
    return after


async def test_each_vap_is_uplink_traffic_with_its_own_wrap() -> None:
    values = _walk()
    readings, state = await poll(FakeDevice(values), at_s=1000.0)
    first = by(readings, "ap_iface", "ifname")
    assert set(first) == {"ng/ath0", "ng/ath1", "na/ath2", "na/ath3"}
    assert all(r.tags["role"] == "uplink" and "in_bps" not in r.fields for r in first.values())
    assert _int(values[f"{TX}.2"]) + 600_000_000 > WRAP32  # ath1's transmit counter wraps in between
    grown = {f"{RX}.1": 3_000_000, f"{TX}.1": 15_000_000, f"{TX}.2": 600_000_000}
    readings, _ = await poll(FakeDevice(_later(values, 30, grown)), state=state, at_s=1030.0)
    vaps = by(readings, "ap_iface", "ifname")
    # From the clients (VAP receive) is out on the uplink; to them (VAP transmit) came in on it.
    assert (vaps["ng/ath0"].fields["out_bps"], vaps["ng/ath0"].fields["in_bps"]) == (800_000.0, 4_000_000.0)
    assert (vaps["ng/ath1"].fields["out_bps"], vaps["ng/ath1"].fields["in_bps"]) == (0.0, 160_000_000.0)
    assert vaps["na/ath2"].fields["in_bps"] == vaps["na/ath2"].fields["out_bps"] == 0.0
    assert vaps["ng/ath1"].tags["radio"] == "ng"


async def test_a_reboot_drops_the_interval_of_every_vap() -> None:
    values = _walk()
    _, state = await poll(FakeDevice(values), at_s=1000.0)
    rebooted = {oid: 3000 for oid in UPTIMES} | {f"{RX}.{i}": 10 for i in range(1, 5)}
    readings, _ = await poll(FakeDevice(values | rebooted), state=state, at_s=1030.0)
    assert not [r for r in readings if r.measurement == "ap_iface" and "out_bps" in r.fields]


async def test_an_if_mib_port_is_not_counted_again() -> None:
    """Firmware that serves IF-MIB too: eth0 carries the VAPs' bytes already, so it is no uplink."""
    values = _walk() | {
        "1.3.6.1.2.1.31.1.1.1.1.1": b"eth0",
        "1.3.6.1.2.1.31.1.1.1.6.1": 123_456,
        "1.3.6.1.2.1.31.1.1.1.10.1": 654_321,
    }
    readings, _ = await poll(FakeDevice(values))
    ifaces = by(readings, "ap_iface", "ifname")
    assert "role" not in ifaces["eth0"].tags
    assert sorted(n for n, r in ifaces.items() if r.tags.get("role") == "uplink") == [
        "na/ath2",
        "na/ath3",
        "ng/ath0",
        "ng/ath1",
    ]
