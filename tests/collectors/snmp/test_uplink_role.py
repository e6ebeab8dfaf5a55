"""The vendor profile names the AP's uplink, and the interface readings say so (`role = uplink`), so
the NOC adds up uplinks, not a case-sensitive guess at port names (MikroTik's port is called `WAN`)."""

from __future__ import annotations

import pytest

from edge_gateway.agent.collectors.snmp.profile import ProfileError, load_profiles, parse_profile
from tests.collectors.snmp.fakes import FakeDevice
from tests.collectors.snmp.test_readings import poll
from tests.collectors.snmp.walks import MIKROTIK, load_walk


async def test_only_the_uplink_carries_the_role() -> None:
    readings, _ = await poll(FakeDevice(load_walk(MIKROTIK)))
    ifaces = [r for r in readings if r.measurement == "ap_iface"]
    assert len(ifaces) > 1  # LAN ports, radios and bridges are there, without the role
    assert [r.tags["ifname"] for r in ifaces if r.tags.get("role") == "uplink"] == ["WAN"]


def test_the_uplink_pattern_is_inherited_overridden_and_checked() -> None:
    profiles = load_profiles()
    assert profiles["airmax"].uplink_ifname == profiles["generic"].uplink_ifname
    assert profiles["mikrotik"].uplink_ifname != profiles["generic"].uplink_ifname
    assert profiles["unifi"].uplink_ifname != profiles["generic"].uplink_ifname  # its VAP rows
    with pytest.raises(ProfileError, match="uplink_ifname"):
        parse_profile({"uplink_ifname": "(unclosed"}, "bad", profiles["generic"])
