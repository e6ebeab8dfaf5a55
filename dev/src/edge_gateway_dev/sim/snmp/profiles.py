"""The vendor registry, and the generic profile (IF-MIB and HOST-RESOURCES only, net-snmp style)."""

from __future__ import annotations

from collections.abc import Callable

from edge_gateway_dev.sim.snmp.ber import Oid
from edge_gateway_dev.sim.snmp.mib_common import (
    IF_TABLE_ENTRY,
    IF_TYPE_BRIDGE,
    IF_TYPE_ETHERNET,
    IF_TYPE_WIFI,
    Iface,
    Moment,
    cpu_load_pct,
    host_resources,
    if_mib,
    mac_of,
    snmp_engine_group,
    system_group,
)
from edge_gateway_dev.sim.snmp.profile_base import ApSummary, Identity, Profile
from edge_gateway_dev.sim.snmp.vendor_cambium import EpmpProfile, Pmp450Profile
from edge_gateway_dev.sim.snmp.vendor_hikvision import HikvisionProfile
from edge_gateway_dev.sim.snmp.vendor_huawei import HuaweiAcProfile
from edge_gateway_dev.sim.snmp.vendor_mikrotik import MikrotikProfile
from edge_gateway_dev.sim.snmp.vendor_mikrotik_variants import CapsmanProfile, Ros7WifiProfile
from edge_gateway_dev.sim.snmp.vendor_openwrt import OpenwrtProfile
from edge_gateway_dev.sim.snmp.vendor_ruckus import SmartZoneProfile, UnleashedProfile, ZoneDirectorProfile
from edge_gateway_dev.sim.snmp.vendor_ruijie import RuijieAcProfile
from edge_gateway_dev.sim.snmp.vendor_tplink import TplinkEapProfile
from edge_gateway_dev.sim.snmp.vendor_ubnt import AirmaxProfile, UnifiProfile
from edge_gateway_dev.sim.snmp.view import Entry

NET_SNMP_LINUX = (1, 3, 6, 1, 4, 1, 8072, 3, 2, 10)


class GenericProfile:
    vendor: str = "generic"
    fault_table: Oid = IF_TABLE_ENTRY

    def __init__(self, identity: Identity) -> None:
        self.identity = identity
        seed = identity.seed
        mb = 1_000_000.0
        self.ifaces = [
            Iface(1, "lo", 24, 10_000_000, b"", 0.01 * mb, 0.01 * mb),
            Iface(2, "eth0", IF_TYPE_ETHERNET, 1_000_000_000, mac_of(seed, "eth0"), 2.0 * mb, 0.5 * mb),
            Iface(3, "wlan0", IF_TYPE_WIFI, 144_000_000, mac_of(seed, "wlan0"), 0.2 * mb, 0.8 * mb),
            Iface(4, "wlan1", IF_TYPE_WIFI, 866_000_000, mac_of(seed, "wlan1"), 0.3 * mb, 1.2 * mb),
            Iface(5, "br-lan", IF_TYPE_BRIDGE, 0, mac_of(seed, "br-lan"), 0.5 * mb, 2.0 * mb),
        ]

    def build(self, moment: Moment) -> tuple[list[Entry], ApSummary]:
        ident = self.identity
        entries: list[Entry] = list(
            system_group(
                f"Linux {ident.name} 5.10.176 #0 SMP armv7l",
                NET_SNMP_LINUX,
                ident.name,
                ident.location,
                moment,
            )
        )
        entries += if_mib(self.ifaces, moment)
        entries += host_resources(moment, n_cpus=2, memory_kb=262144, disk_kb=131072)
        entries += snmp_engine_group(ident.engine_id, moment)
        summary = ApSummary(
            iface_octets={iface.name: iface.octets(moment) for iface in self.ifaces},
            cpu_pct=cpu_load_pct(moment, "cpu1", 4.0, 38.0),
        )
        return entries, summary


PROFILES: dict[str, Callable[[Identity], Profile]] = {
    "mikrotik": MikrotikProfile,
    "mikrotik-capsman": CapsmanProfile,
    "mikrotik-ros7": Ros7WifiProfile,
    "unifi": UnifiProfile,
    "airmax": AirmaxProfile,
    "generic": GenericProfile,
    "cambium-pmp450": Pmp450Profile,
    "cambium-epmp": EpmpProfile,
    "ruckus-zd": ZoneDirectorProfile,
    "ruckus-smartzone": SmartZoneProfile,
    "ruckus-unleashed": UnleashedProfile,
    "huawei-ac": HuaweiAcProfile,
    "openwrt": OpenwrtProfile,
    "tplink-eap": TplinkEapProfile,
    "ruijie-ac": RuijieAcProfile,
    "hikvision": HikvisionProfile,
}
# IANA enterprise numbers, for the engine IDs (RFC 3411 format 4, text).
ENTERPRISES = {
    "mikrotik": 14988,
    "mikrotik-capsman": 14988,
    "mikrotik-ros7": 14988,
    "unifi": 41112,
    "airmax": 41112,
    "generic": 8072,
    "cambium-pmp450": 161,
    "cambium-epmp": 17713,
    "ruckus-zd": 25053,
    "ruckus-smartzone": 25053,
    "ruckus-unleashed": 25053,
    "huawei-ac": 2011,
    "openwrt": 8072,
    "tplink-eap": 11863,
    "ruijie-ac": 4881,
    "hikvision": 39165,
}


def engine_id_for(vendor: str, name: str) -> bytes:
    return (0x80000000 | ENTERPRISES[vendor]).to_bytes(4, "big") + b"\x04" + name.encode()[:27]
