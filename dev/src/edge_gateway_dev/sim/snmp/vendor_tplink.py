"""TP-Link EAP access point (EAP245 class), modelled on TP-Link's EAP-CLIENT-MIB (201610170000Z).

Enterprise 11863; the AP's client count is clientCount, the scalar 1.3.6.1.4.1.11863.10.1.1.1.0 (the EAP
MIBs have no radio objects). IF-MIB: eth0, the two radios (wifi0 2.4 GHz, wifi1 5 GHz) and br0, as the
EAP's Linux serves them; ground truth per radio, the scalar sums them.
"""

from __future__ import annotations

from edge_gateway_dev.sim.snmp.ber import INTEGER, Oid
from edge_gateway_dev.sim.snmp.dynamics import ClientPool
from edge_gateway_dev.sim.snmp.mib_common import (
    IF_TYPE_BRIDGE,
    IF_TYPE_ETHERNET,
    IF_TYPE_WIFI,
    Iface,
    Moment,
    if_mib,
    mac_of,
    snmp_engine_group,
    system_group,
)
from edge_gateway_dev.sim.snmp.profile_base import ApSummary, Identity
from edge_gateway_dev.sim.snmp.view import Entry

EAP_CLIENTS = (1, 3, 6, 1, 4, 1, 11863, 10, 1, 1, 1)
EAP245_OID = (1, 3, 6, 1, 4, 1, 11863, 3, 2, 245)  # illustrative: the profile needs only the 11863 prefix
_MB = 1_000_000.0


class TplinkEapProfile:
    vendor: str = "tplink-eap"
    fault_table: Oid = EAP_CLIENTS

    def __init__(self, identity: Identity) -> None:
        self.identity = identity
        seed = identity.seed
        self.pools = {
            "wifi0": ClientPool(seed, "wifi0", 14, 0.7),
            "wifi1": ClientPool(seed, "wifi1", 20, 0.7),
        }
        self.ifaces = [
            Iface(1, "eth0", IF_TYPE_ETHERNET, 1_000_000_000, mac_of(seed, "eth0"), 1.5 * _MB, 5.0 * _MB),
            Iface(2, "wifi0", IF_TYPE_WIFI, 450_000_000, mac_of(seed, "wifi0"), 1.0 * _MB, 0.3 * _MB),
            Iface(3, "wifi1", IF_TYPE_WIFI, 1_300_000_000, mac_of(seed, "wifi1"), 4.0 * _MB, 1.2 * _MB),
            Iface(4, "br0", IF_TYPE_BRIDGE, 0, mac_of(seed, "br0"), 1.5 * _MB, 5.0 * _MB),
        ]

    def build(self, moment: Moment) -> tuple[list[Entry], ApSummary]:
        ident = self.identity
        entries: list[Entry] = list(system_group("EAP245", EAP245_OID, ident.name, ident.location, moment))
        entries += if_mib(self.ifaces, moment)
        entries += snmp_engine_group(ident.engine_id, moment)
        summary = ApSummary()
        for radio, pool in self.pools.items():
            summary.clients_per_radio[radio] = len(pool.sessions(moment.time_s, moment.boot_s))
        entries.append(((*EAP_CLIENTS, 0), INTEGER, summary.clients))
        summary.iface_octets = {iface.name: iface.octets(moment) for iface in self.ifaces}
        return entries, summary
