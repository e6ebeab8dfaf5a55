"""Huawei wireless access controller (AC6508 class), modelled on its MIBs (no recorded walk).

HUAWEI-WLAN-AP-MIB hwWlanApTable (…2011.6.139.13.3.3.1) has a row per managed AP indexed by its MAC
(6 sub-ids): hwWlanApMac, hwWlanApName (.4), hwWlanApRunState (.6, 8 = normal), hwWlanApMemoryUseRate
(.40), hwWlanApCpuUseRate (.41), hwWlanApOnlineUserNum (.44). HUAWEI-WLAN-AP-RADIO-MIB
hwWlanRadioInfoTable (…16.1.2.1) a row per radio, indexed by AP MAC then radio id: working channel (.7),
channel utilisation (.25). HUAWEI-WLAN-VAP-MIB hwWlanVapStaOnlineCnt (…17.1.1.1.9) the stations per
VAP, indexed by AP MAC, radio id and WLAN id.
"""

from __future__ import annotations

from edge_gateway_dev.sim.snmp.ber import INTEGER, OCTET_STRING, Oid
from edge_gateway_dev.sim.snmp.dynamics import drift
from edge_gateway_dev.sim.snmp.mib_common import (
    IF_TYPE_ETHERNET,
    Iface,
    Moment,
    host_resources,
    if_mib,
    mac_of,
    snmp_engine_group,
    system_group,
)
from edge_gateway_dev.sim.snmp.profile_base import ApSummary, Identity
from edge_gateway_dev.sim.snmp.vendor_controllers import managed_aps
from edge_gateway_dev.sim.snmp.view import Entry

AP_ENTRY = (1, 3, 6, 1, 4, 1, 2011, 6, 139, 13, 3, 3, 1)
RADIO_ENTRY = (1, 3, 6, 1, 4, 1, 2011, 6, 139, 16, 1, 2, 1)
VAP_STA_ONLINE = (1, 3, 6, 1, 4, 1, 2011, 6, 139, 17, 1, 1, 1, 9)
AC6508_OID = (1, 3, 6, 1, 4, 1, 2011, 2, 240, 6)
WLAN_IDS = (1, 2)  # two SSIDs on every radio
_MB = 1_000_000.0


class HuaweiAcProfile:
    vendor: str = "huawei-ac"
    fault_table: Oid = AP_ENTRY

    def __init__(self, identity: Identity) -> None:
        self.identity = identity
        self.aps = managed_aps(identity.seed, identity.name, 3)
        self.ifaces = [
            Iface(
                1,
                "GigabitEthernet0/0/1",
                IF_TYPE_ETHERNET,
                1_000_000_000,
                mac_of(identity.seed, "ge1"),
                4 * _MB,
                9 * _MB,
            )
        ]

    def build(self, moment: Moment) -> tuple[list[Entry], ApSummary]:
        ident, seed, t = self.identity, moment.seed, moment.time_s
        descr = "Huawei AC6508 Huawei Versatile Routing Platform Software VRP (R) software, Version 5.170"
        entries: list[Entry] = list(system_group(descr, AC6508_OID, ident.name, ident.location, moment))
        entries += if_mib(self.ifaces, moment)
        entries += host_resources(moment, n_cpus=1, memory_kb=1_048_576, disk_kb=524_288)
        entries += snmp_engine_group(ident.engine_id, moment)
        summary = ApSummary()
        for ap in self.aps:
            clients = ap.clients(moment)
            m = ap.mac
            cpu = max(0, min(100, round(10 + 30 * moment.intensity + drift(seed, f"{ap.name}/cpu", t, 5.0))))
            entries += [
                ((*AP_ENTRY, 1, *m), OCTET_STRING, m),
                ((*AP_ENTRY, 4, *m), OCTET_STRING, ap.name.encode()),
                ((*AP_ENTRY, 6, *m), INTEGER, 8),  # normal
                ((*AP_ENTRY, 40, *m), INTEGER, 42),
                ((*AP_ENTRY, 41, *m), INTEGER, cpu),
                ((*AP_ENTRY, 44, *m), INTEGER, sum(clients.values())),
            ]
            for radio, count in clients.items():
                util = max(
                    0, min(100, round(8 + 50 * moment.intensity + drift(seed, f"{ap.name}/u{radio}", t, 6.0)))
                )
                entries += [
                    ((*RADIO_ENTRY, 7, *m, radio), INTEGER, ap.channels[radio]),
                    ((*RADIO_ENTRY, 25, *m, radio), INTEGER, util),
                ]
                # The radio's stations split over its two SSIDs, the first taking the larger half.
                for wlan, share in zip(WLAN_IDS, (count - count // 3, count // 3), strict=True):
                    entries.append(((*VAP_STA_ONLINE, *m, radio, wlan), INTEGER, share))
                summary.clients_per_radio[f"{ap.name}/{radio}"] = count
        return entries, summary
