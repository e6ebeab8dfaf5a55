"""OpenWrt AP with the NET-SNMP `extend` scripts commonly installed for its wireless data.

A net-snmp Linux agent (sysObjectID NET-SNMP-TC linux), IF-MIB and HOST-RESOURCES, and, as on the build
the issue reports, no sysUpTime: only hrSystemUptime tells the uptime. NET-SNMP-EXTEND-MIB
nsExtendOutput1Line (…8072.1.3.2.3.1.1) is indexed by the extend's name as a length-prefixed string;
each script prints one number: "clients-wlan0" (stations), "frequency-wlan0" (MHz), "noise-floor-wlan0"
(dBm), plus "clients-wlan" for all radios together and "interfaces" (text), as the scripts are set up.
"""

from __future__ import annotations

from edge_gateway_dev.sim.snmp.ber import INTEGER, OCTET_STRING, Oid
from edge_gateway_dev.sim.snmp.dynamics import ClientPool, drift
from edge_gateway_dev.sim.snmp.mib_common import (
    IF_TYPE_BRIDGE,
    IF_TYPE_ETHERNET,
    IF_TYPE_WIFI,
    SYSTEM,
    Iface,
    Moment,
    host_resources,
    if_mib,
    mac_of,
    snmp_engine_group,
    system_group,
)
from edge_gateway_dev.sim.snmp.profile_base import ApSummary, Identity
from edge_gateway_dev.sim.snmp.view import Entry

NET_SNMP_LINUX = (1, 3, 6, 1, 4, 1, 8072, 3, 2, 10)
EXTEND_OUTPUT_1LINE = (1, 3, 6, 1, 4, 1, 8072, 1, 3, 2, 3, 1, 1)
EXTEND_RESULT = (1, 3, 6, 1, 4, 1, 8072, 1, 3, 2, 3, 1, 4)
_RADIOS = {"wlan0": 2437, "wlan1": 5180}
_MB = 1_000_000.0


def extend_index(name: str) -> tuple[int, ...]:
    """An nsExtendToken as an index: its length, then its characters."""
    return (len(name), *name.encode())


class OpenwrtProfile:
    vendor: str = "openwrt"
    fault_table: Oid = EXTEND_OUTPUT_1LINE

    def __init__(self, identity: Identity) -> None:
        self.identity = identity
        seed = identity.seed
        self.pools = {radio: ClientPool(seed, radio, 12, 0.7) for radio in _RADIOS}
        self.ifaces = [
            Iface(1, "lo", 24, 10_000_000, b"", 0.01 * _MB, 0.01 * _MB),
            Iface(2, "eth0", IF_TYPE_ETHERNET, 1_000_000_000, mac_of(seed, "eth0"), 2.0 * _MB, 0.5 * _MB),
            Iface(3, "br-lan", IF_TYPE_BRIDGE, 0, mac_of(seed, "br-lan"), 0.5 * _MB, 2.0 * _MB),
            Iface(4, "wlan0", IF_TYPE_WIFI, 144_000_000, mac_of(seed, "wlan0"), 0.2 * _MB, 0.8 * _MB),
            Iface(5, "wlan1", IF_TYPE_WIFI, 866_000_000, mac_of(seed, "wlan1"), 0.3 * _MB, 1.2 * _MB),
        ]

    def build(self, moment: Moment) -> tuple[list[Entry], ApSummary]:
        ident = self.identity
        descr = f"Linux OpenWrt 5.15.150 #0 SMP OpenWrt 23.05.3 mips {ident.name}"
        system = system_group(descr, NET_SNMP_LINUX, ident.name, ident.location, moment)
        entries: list[Entry] = [entry for entry in system if entry[0] != (*SYSTEM, 3, 0)]  # no sysUpTime
        entries += if_mib(self.ifaces, moment)
        entries += host_resources(moment, n_cpus=1, memory_kb=131_072, disk_kb=16_384)
        entries += snmp_engine_group(ident.engine_id, moment)
        summary = ApSummary()
        outputs = {"interfaces": "wlan0,wl-2.4G"}
        for radio, freq_mhz in _RADIOS.items():
            count = len(self.pools[radio].sessions(moment.time_s, moment.boot_s))
            summary.clients_per_radio[radio] = count
            noise = round(-95 + drift(moment.seed, f"noise/{radio}", moment.time_s, 3.0))
            outputs |= {f"clients-{radio}": str(count), f"frequency-{radio}": str(freq_mhz)}
            outputs[f"noise-floor-{radio}"] = (
                str(noise) if count else ""
            )  # no station: the script prints nothing
        outputs["clients-wlan"] = str(summary.clients)
        for name, text in outputs.items():
            entries.append(((*EXTEND_OUTPUT_1LINE, *extend_index(name)), OCTET_STRING, text.encode()))
            entries.append(((*EXTEND_RESULT, *extend_index(name)), INTEGER, 0))
        summary.iface_octets = {iface.name: iface.octets(moment) for iface in self.ifaces}
        return entries, summary
