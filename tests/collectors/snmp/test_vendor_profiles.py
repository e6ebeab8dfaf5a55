"""Choosing a profile by sysDescr, extend-script rows, and an agent that answers without sysUpTime."""

from __future__ import annotations

import asyncio

import pytest

from edge_gateway.agent.collectors.snmp.backend import Value
from edge_gateway.agent.collectors.snmp.profile import ProfileError, candidates, load_profiles, parse_profile
from edge_gateway.agent.collectors.snmp.readings import build
from edge_gateway.agent.collectors.snmp.snapshot import fetch, identify
from edge_gateway.agent.collectors.snmp.walk import Link, WalkError
from edge_gateway.core.model import FieldValue
from tests.collectors.snmp.fakes import FakeBackend, FakeDevice

NET_SNMP_LINUX = "1.3.6.1.4.1.8072.3.2.10"
EXTEND = "1.3.6.1.4.1.8072.1.3.2.3.1.1"


def token(name: str) -> str:
    return ".".join(map(str, (len(name), *name.encode())))


def openwrt(**extra: Value) -> dict[str, Value]:
    """An OpenWrt agent as the issue saw it: sysDescr, sysObjectID, HOST-RESOURCES, no sysUpTime."""
    return {
        "1.3.6.1.2.1.1.1.0": b"Linux OpenWrt 5.15.150 #0 SMP OpenWrt 23.05.3 mips",
        "1.3.6.1.2.1.1.2.0": NET_SNMP_LINUX,
        "1.3.6.1.2.1.25.3.3.1.2.196608": 12,
        **extra,
    }


def poll(values: dict[str, Value]) -> tuple[str, dict[str, dict[str, FieldValue]]]:
    async def run() -> tuple[str, dict[str, dict[str, FieldValue]]]:
        link = Link(FakeBackend(FakeDevice(values)), 24, 1000, 0)
        profile = await identify(link, load_profiles())
        snapshot = await fetch(link, profile, clients=False, model="")
        readings, _ = build(profile, snapshot, {"device": "d"}, False, None, {})
        points = {f"{r.measurement}:{r.tags.get('radio', '')}": dict(r.fields) for r in readings}
        return profile.name, points

    return asyncio.run(run())


def test_an_agent_without_sysuptime_is_up_with_the_host_uptime() -> None:
    name, points = poll(openwrt(**{"1.3.6.1.2.1.25.1.1.0": 360_000}))
    assert name == "openwrt"
    assert points["ap:"]["up"] is True
    assert points["ap:"]["uptime_s"] == 3600


def test_an_agent_that_tells_no_uptime_at_all_is_up_without_one() -> None:
    _, points = poll(openwrt())
    assert points["ap:"]["up"] is True
    assert "uptime_s" not in points["ap:"]
    assert points["ap:"]["cpu_pct"] == 12.0


def test_an_agent_that_answers_nothing_is_not_an_agent() -> None:
    async def run() -> None:
        link = Link(FakeBackend(FakeDevice({})), 24, 1000, 0)
        await fetch(link, load_profiles()["generic"], clients=False, model="")

    with pytest.raises(WalkError, match="not an SNMP agent"):
        asyncio.run(run())


def test_extend_scripts_become_radios_and_the_all_radios_line_is_not_counted_twice() -> None:
    outputs = {"clients-wlan0": b"7", "clients-wlan1": b"3", "clients-wlan": b"10"}
    outputs |= {"frequency-wlan0": b"2437", "noise-floor-wlan1": b"-92", "interfaces": b"wlan0,wl-2.4G"}
    values = openwrt(**{f"{EXTEND}.{token(name)}": text for name, text in outputs.items()})
    _, points = poll(values)
    assert points["ap_radio:wlan0"] == {"clients": 7, "freq_mhz": 2437}
    assert points["ap_radio:wlan1"] == {"clients": 3, "noise_dbm": -92}
    assert points["ap:"]["clients"] == 10


def test_a_script_printing_no_number_is_left_out() -> None:
    values = openwrt(**{f"{EXTEND}.{token('clients-wlan0')}": b"iwinfo: not found"})
    _, points = poll(values)
    assert "clients" not in points.get("ap_radio:wlan0", {})


def test_sysdescr_decides_between_profiles_of_one_sysobjectid() -> None:
    profiles = load_profiles()
    openwrt_box = [p.name for p in candidates(profiles, NET_SNMP_LINUX, "Linux OpenWrt 5.15 #0 SMP")]
    debian_box = [p.name for p in candidates(profiles, NET_SNMP_LINUX, "Linux gw 6.1.0-18-amd64 #1 SMP")]
    assert openwrt_box[0] == "openwrt"
    assert "openwrt" not in debian_box


def test_a_prefix_names_another_plain_tag_of_the_table() -> None:
    fields = [{"name": "x", "oid": "1.3.6"}]
    table = {"name": "t", "index": ["mac", "radio"], "tags": {"radio": {"part": "radio", "prefix": "ap"}}}
    with pytest.raises(ProfileError) as caught:
        parse_profile({"tables": [table | {"fields": fields}]}, "p")
    assert caught.value.problems == ["p.tables[0]: tags.radio.prefix: 'ap' is not another plain tag"]


@pytest.mark.parametrize(
    ("tag", "problem"),
    [
        ({"part": "name", "pattern": "("}, "not a regular expression"),
        ({"part": "name", "pattern": "^clients-.*$"}, "exactly one group"),
    ],
)
def test_a_bad_tag_pattern_is_reported_with_its_key(tag: dict[str, str], problem: str) -> None:
    table = {
        "name": "t",
        "index": ["name"],
        "tags": {"radio": tag},
        "fields": [{"name": "x", "oid": "1.3.6"}],
    }
    with pytest.raises(ProfileError) as caught:
        parse_profile({"tables": [table]}, "p")
    assert any("p.tables[0].tags.radio.pattern" in p and problem in p for p in caught.value.problems)
