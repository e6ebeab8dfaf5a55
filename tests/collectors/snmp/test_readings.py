"""The mapping from what a device answered to readings, offline, on the recorded walks."""

from __future__ import annotations

import pytest

from edge_gateway.agent.collectors.snmp.backend import Value
from edge_gateway.agent.collectors.snmp.privacy import ClientHasher
from edge_gateway.agent.collectors.snmp.profile import load_profiles
from edge_gateway.agent.collectors.snmp.readings import CounterState, build
from edge_gateway.agent.collectors.snmp.snapshot import fetch, identify
from edge_gateway.agent.collectors.snmp.walk import Link
from edge_gateway.core.model import Reading
from tests.collectors.snmp.fakes import FakeBackend, FakeDevice
from tests.collectors.snmp.walks import AIRMAX, MIKROTIK, UNIFI, load_walk, mac_forms

PROFILES = load_profiles()
HASHER = ClientHasher(b"a key of sixteen bytes or more")
TAGS = {"device": "ap-1", "site": "here"}
WAN_IN = "1.3.6.1.2.1.31.1.1.1.6.3"
UPTIME = "1.3.6.1.2.1.1.3.0"


async def poll(
    fake: FakeDevice, clients: bool = False, state: CounterState | None = None, at_s: float | None = None
) -> tuple[list[Reading], CounterState]:
    """One poll of a fake device; `at_s` fixes the poll's monotonic time, for rates."""
    link = Link(FakeBackend(fake), 25, 10_000, 0)
    profile = await identify(link, PROFILES)
    snapshot = await fetch(link, profile, clients, "")
    if at_s is not None:
        snapshot.time_s = at_s
    return build(profile, snapshot, TAGS, clients, HASHER, state or {})


def by(readings: list[Reading], measurement: str, tag: str) -> dict[str, Reading]:
    return {r.tags[tag]: r for r in readings if r.measurement == measurement}


async def test_mikrotik_clients_per_radio_and_health() -> None:
    readings, _ = await poll(FakeDevice(load_walk(MIKROTIK)))
    radios = by(readings, "ap_radio", "radio")
    assert {name: r.fields["clients"] for name, r in radios.items()} == {
        "wlan1": 7,
        "wlan2": 0,
        "wlan3": 0,
        "wlan4": 4,
    }
    assert radios["wlan1"].fields["freq_mhz"] == 2412 and radios["wlan1"].tags["ssid"] == "WARKOP-KOPIBOSS-B"
    # virtual APs report frequency 0 and noise 0: absent, not zero
    assert "freq_mhz" not in radios["wlan4"].fields and "noise_dbm" not in radios["wlan4"].fields
    ap = next(r for r in readings if r.measurement == "ap")
    assert ap.tags["vendor"] == "mikrotik"
    assert ap.fields["clients"] == 11 and ap.fields["dhcp_leases"] == 33
    assert ap.fields["temp_c"] == 33.0 and ap.fields["voltage_v"] == 15.4
    assert ap.fields["uptime_s"] == 20204 and ap.fields["mem_used_pct"] == 41.5
    assert not any(name.startswith("_") for r in readings for name in r.fields)


async def test_mikrotik_wan_64_bit_octets_are_raw_and_no_rate_on_first_poll() -> None:
    readings, state = await poll(FakeDevice(load_walk(MIKROTIK)))
    wan = by(readings, "ap_iface", "ifname")["WAN"]
    assert wan.fields["in_octets"] == 6422347895 and wan.fields["speed_mbps"] == 100
    assert "in_bps" not in wan.fields and state


async def test_rates_across_polls_and_across_a_reboot() -> None:
    values = load_walk(MIKROTIK)
    _, state = await poll(FakeDevice(values), at_s=1000.0)
    values[WAN_IN] = 6422347895 + 3_000_000
    values[UPTIME] = 2020400 + 3000
    readings, state = await poll(FakeDevice(values), state=state, at_s=1030.0)
    wan = by(readings, "ap_iface", "ifname")["WAN"]
    assert wan.fields["in_bps"] == 800_000.0  # 3 MB in 30 s
    assert wan.fields["out_bps"] == 0.0
    values[UPTIME], values[WAN_IN] = 500, 10  # rebooted: uptime and counters back near zero
    readings, _ = await poll(FakeDevice(values), state=state, at_s=1060.0)
    wan = by(readings, "ap_iface", "ifname")["WAN"]
    assert "in_bps" not in wan.fields and wan.fields["in_octets"] == 10


async def test_counter_discontinuity_drops_the_interval() -> None:
    values = load_walk(MIKROTIK)
    _, state = await poll(FakeDevice(values), at_s=0.0)
    values[WAN_IN] = 6422347895 + 3_000_000
    values["1.3.6.1.2.1.31.1.1.1.19.3"] = 2020000  # ifCounterDiscontinuityTime of WAN changed
    readings, _ = await poll(FakeDevice(values), state=state, at_s=30.0)
    interfaces = by(readings, "ap_iface", "ifname")
    assert "in_bps" not in interfaces["WAN"].fields and "out_bps" not in interfaces["WAN"].fields
    assert interfaces["wlan1"].fields["in_bps"] == 0.0  # the other rows keep their rates


async def test_rate_capped_at_interface_speed() -> None:
    values = load_walk(MIKROTIK)
    _, state = await poll(FakeDevice(values), at_s=0.0)
    values[WAN_IN] = 6422347895 + 14_000_000  # 112 Mbit in 1 s on a 100 Mbit/s port
    readings, _ = await poll(FakeDevice(values), state=state, at_s=1.0)
    assert by(readings, "ap_iface", "ifname")["WAN"].fields["in_bps"] == 100_000_000


async def test_32_bit_fallback_when_a_device_has_no_hc_counters() -> None:
    values = {k: v for k, v in load_walk(MIKROTIK).items() if not k.startswith("1.3.6.1.2.1.31.1.1.1.6.")}
    values["1.3.6.1.2.1.2.2.1.10.3"] = 4_000_000_000
    readings, _ = await poll(FakeDevice(values))
    assert by(readings, "ap_iface", "ifname")["WAN"].fields["in_octets"] == 4_000_000_000


MIKROTIK_RADIO_CLIENTS = "1.3.6.1.4.1.14988.1.1.1.3.1.6."
MIKROTIK_RADIO_CCQ = "1.3.6.1.4.1.14988.1.1.1.3.1.10."
MIKROTIK_STATIONS = "1.3.6.1.4.1.14988.1.1.1.2.1."
MIKROTIK_HOTSPOT_SERVER = "1.3.6.1.4.1.14988.1.1.5.1.1.2."


def mikrotik_at_night() -> dict[str, Value]:
    """The recorded MikroTik at 03:00: no station on any radio, so CCQ 0 ("unknown"), no hotspot user."""
    values = {k: v for k, v in load_walk(MIKROTIK).items() if not k.startswith(MIKROTIK_STATIONS)}
    for oid in values:
        if oid.startswith((MIKROTIK_RADIO_CLIENTS, MIKROTIK_RADIO_CCQ)):
            values[oid] = 0
    return values


async def test_no_clients_is_zero_and_ccq_without_stations_is_absent() -> None:
    readings, _ = await poll(FakeDevice(mikrotik_at_night()), clients=True)
    ap = next(r for r in readings if r.measurement == "ap")
    assert (ap.fields["clients"], ap.fields["hotspot_users"]) == (0, 0)
    radios = by(readings, "ap_radio", "radio")
    assert {name: r.fields["clients"] for name, r in radios.items()} == dict.fromkeys(radios, 0)
    assert len(radios) == 4 and not any("ccq_pct" in r.fields for r in radios.values())
    assert not [r for r in readings if r.measurement == "ap_client"]


async def test_a_broken_walk_leaves_its_total_out_instead_of_zero() -> None:
    values = mikrotik_at_night()
    values[MIKROTIK_HOTSPOT_SERVER + "1"] = 1
    readings, _ = await poll(FakeDevice(values, repeat_at=MIKROTIK_HOTSPOT_SERVER + "1"))
    ap = next(r for r in readings if r.measurement == "ap")
    assert "hotspot_users" not in ap.fields and ap.fields["clients"] == 0
    values[MIKROTIK_HOTSPOT_SERVER + "2"] = 1
    readings, _ = await poll(FakeDevice(values))
    assert next(r for r in readings if r.measurement == "ap").fields["hotspot_users"] == 2


async def test_unifi_vaps_are_summed_per_radio() -> None:
    readings, _ = await poll(FakeDevice(load_walk(UNIFI)))
    radios = by(readings, "ap_radio", "radio")
    assert list(radios) == ["ng"]  # 4 VAPs (0+1+3+0 stations) on one radio
    assert radios["ng"].fields["clients"] == 4 and radios["ng"].fields["util_pct"] == 9
    ap = next(r for r in readings if r.measurement == "ap")
    assert ap.tags["vendor"] == "unifi" and ap.tags["model"] == "UAP"
    assert ap.fields["clients"] == 4 and ap.fields["mem_used_pct"] == pytest.approx(37.97)
    assert not [r for r in readings if r.measurement == "ap_iface"]  # no IF-MIB on this device


async def test_airmax_stations_signal_ccq_noise() -> None:
    readings, _ = await poll(FakeDevice(load_walk(AIRMAX)))
    radio = by(readings, "ap_radio", "radio")["1"]
    assert radio.fields == {
        "clients": 22, "signal_dbm": -69, "ccq_pct": 92, "noise_dbm": -103,
        "tx_rate_bps": 59999000, "rx_rate_bps": 37338600, "freq_mhz": 5745,
    }  # fmt: skip
    ap = next(r for r in readings if r.measurement == "ap")
    assert ap.tags["model"] == "Rocket Prism 5AC Gen2" and ap.fields["clients"] == 22


async def test_clients_are_opt_in_and_carry_hashes_never_macs() -> None:
    values = load_walk(MIKROTIK)
    without, _ = await poll(FakeDevice(values))
    assert not [r for r in without if r.measurement == "ap_client"]
    readings, _ = await poll(FakeDevice(values), clients=True)
    clients = [r for r in readings if r.measurement == "ap_client"]
    assert len(clients) == 11
    assert {r.tags["radio"] for r in clients} == {"wlan1", "wlan4"}
    macs = [
        tuple(int(p) for p in oid.split(".")[-7:-1])
        for oid in values
        if oid.startswith("1.3.6.1.4.1.14988.1.1.1.2.1.3.")
    ]
    text = repr(readings)
    for mac in macs:
        assert HASHER.hash_index(mac) in {r.tags["client"] for r in clients}
        for form in mac_forms(mac):
            assert form not in text


async def test_every_field_has_one_type_across_vendors() -> None:
    """InfluxDB refuses a field whose type changes: the profile's kinds must fix each one."""
    types: dict[tuple[str, str], set[str]] = {}
    for walk in (MIKROTIK, UNIFI, AIRMAX):
        values = load_walk(walk)
        _, state = await poll(FakeDevice(values), clients=True, at_s=0.0)
        readings, _ = await poll(FakeDevice(values), clients=True, state=state, at_s=30.0)
        for reading in readings:
            for name, value in reading.fields.items():
                types.setdefault((reading.measurement, name), set()).add(type(value).__name__)
    assert {key: kinds for key, kinds in types.items() if len(kinds) > 1} == {}
    assert types[("ap_radio", "clients")] == {"int"} and types[("ap_radio", "ccq_pct")] == {"float"}


async def test_mikrotik_radio_rates_routeros_leaves_at_zero_are_absent_not_zero() -> None:
    """The recorded hAP answers mtxrWlApTxRate/RxRate 0 on every radio, wlan1 with 7 stations too:
    RouterOS does not fill them on an AP, and its registration table here has no rate column."""
    readings, _ = await poll(FakeDevice(load_walk(MIKROTIK)), clients=True)
    radios = by(readings, "ap_radio", "radio")
    assert len(radios) == 4 and radios["wlan1"].fields["clients"] == 7
    assert not [name for r in radios.values() for name in r.fields if name.endswith("_rate_bps")]


async def test_mikrotik_radio_rate_is_the_mean_of_its_stations_rates() -> None:
    """With mtxrWlRtabTxRate/RxRate answered, a radio's rate is its stations' mean PHY rate; a station
    answering 0 (no rate yet) is left out of the mean, and a radio without stations has none."""
    values = load_walk(MIKROTIK)
    rows = [
        oid.removeprefix(MIKROTIK_STATIONS + "3.")
        for oid in values
        if oid.startswith(MIKROTIK_STATIONS + "3.")
    ]
    tx_by_radio: dict[str, list[int]] = {"1": [], "9": []}
    for number, row in enumerate(sorted(rows)):
        tx_bps = (0, 144_400_000, 86_700_000, 43_300_000)[number % 4]
        values[f"{MIKROTIK_STATIONS}8.{row}"] = tx_bps
        values[f"{MIKROTIK_STATIONS}9.{row}"] = tx_bps // 2
        if tx_bps:
            tx_by_radio[row.rsplit(".", 1)[1]].append(tx_bps)
    readings, _ = await poll(FakeDevice(values))
    radios = by(readings, "ap_radio", "radio")
    for radio, index, clients in (("wlan1", "1", 7), ("wlan4", "9", 4)):
        mean_bps = sum(tx_by_radio[index]) / len(tx_by_radio[index])
        assert radios[radio].fields["tx_rate_bps"] == round(mean_bps)
        assert radios[radio].fields["rx_rate_bps"] == round(mean_bps / 2)
        assert radios[radio].tags["ssid"] and radios[radio].fields["clients"] == clients
    assert "tx_rate_bps" not in radios["wlan2"].fields and "rx_rate_bps" not in radios["wlan3"].fields
    assert len(radios) == 4
