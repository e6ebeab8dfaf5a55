"""Ruckus ZoneDirector, SmartZone and Unleashed, modelled on their MIBs (no recorded walk of any).

ZoneDirector (RUCKUS-ZD-WLAN-MIB): ruckusZDWLANAPTable (…25053.1.2.2.1.1.2.1.1) has a row per managed AP,
indexed by its MAC (6 sub-ids): Description (the AP's name), Status, Model, NumSta; and
ruckusZDWLANAPRadioStatsTable (…2.2.1) a row per radio, indexed by AP MAC then radio index: RadioType,
Channel, NumSta. SmartZone (RUCKUS-SZ-WLAN-MIB): ruckusSZAPTable (…25053.1.4.2.1.1.2.2.1), indexed by the
AP MAC: Name, Model, NumSta, RX/TX bytes (Counter64); no per-radio table. Unleashed
(RUCKUS-UNLEASHED-SYSTEM-MIB): the master AP's ruckusUnleashedSystemStats scalars NumAP and NumSta.
"""

from __future__ import annotations

from edge_gateway_dev.sim.snmp.ber import COUNTER64, GAUGE32, INTEGER, OCTET_STRING, Oid
from edge_gateway_dev.sim.snmp.dynamics import traffic_bytes
from edge_gateway_dev.sim.snmp.mib_common import (
    IF_TYPE_ETHERNET,
    Iface,
    Moment,
    if_mib,
    mac_of,
    snmp_engine_group,
    system_group,
)
from edge_gateway_dev.sim.snmp.profile_base import ApSummary, Identity
from edge_gateway_dev.sim.snmp.vendor_controllers import managed_aps
from edge_gateway_dev.sim.snmp.view import Entry

ZD_AP_ENTRY = (1, 3, 6, 1, 4, 1, 25053, 1, 2, 2, 1, 1, 2, 1, 1)
ZD_RADIO_ENTRY = (1, 3, 6, 1, 4, 1, 25053, 1, 2, 2, 1, 1, 2, 2, 1)
SZ_AP_ENTRY = (1, 3, 6, 1, 4, 1, 25053, 1, 4, 2, 1, 1, 2, 2, 1)
UNLEASHED_STATS = (1, 3, 6, 1, 4, 1, 25053, 1, 15, 1, 1, 1, 15)
ZD1200_OID = (1, 3, 6, 1, 4, 1, 25053, 3, 1, 5, 15)
# Illustrative product OIDs: the profiles need only the 25053 prefix and tell the products by probe column.
VSZ_OID = (1, 3, 6, 1, 4, 1, 25053, 3, 1, 11, 1)
R650_OID = (1, 3, 6, 1, 4, 1, 25053, 3, 1, 4, 98)
_MB = 1_000_000.0
_RADIO_TYPE = {1: 2, 2: 4}  # radio11ng(2), radio11ac(4)


def _base(identity: Identity, descr: str, object_id: Oid, moment: Moment) -> list[Entry]:
    ifaces = [
        Iface(1, "eth0", IF_TYPE_ETHERNET, 1_000_000_000, mac_of(identity.seed, "eth0"), 2 * _MB, 6 * _MB)
    ]
    entries = list(system_group(descr, object_id, identity.name, identity.location, moment))
    entries += if_mib(ifaces, moment)
    entries += snmp_engine_group(identity.engine_id, moment)
    return entries


class ZoneDirectorProfile:
    vendor: str = "ruckus-zd"
    fault_table: Oid = ZD_AP_ENTRY

    def __init__(self, identity: Identity) -> None:
        self.identity = identity
        self.aps = managed_aps(identity.seed, identity.name, 3)

    def build(self, moment: Moment) -> tuple[list[Entry], ApSummary]:
        entries = _base(self.identity, "Ruckus Wireless ZD1200", ZD1200_OID, moment)
        summary = ApSummary()
        for ap in self.aps:
            clients = ap.clients(moment)
            e = ZD_AP_ENTRY
            entries += [
                ((*e, 1, *ap.mac), OCTET_STRING, ap.mac),
                ((*e, 2, *ap.mac), OCTET_STRING, ap.name.encode()),
                ((*e, 3, *ap.mac), INTEGER, 1),  # connected
                ((*e, 4, *ap.mac), OCTET_STRING, b"r650"),
                ((*e, 15, *ap.mac), GAUGE32, sum(clients.values())),
            ]
            for radio, count in clients.items():
                index = (*ap.mac, radio)
                entries += [
                    ((*ZD_RADIO_ENTRY, 3, *index), INTEGER, _RADIO_TYPE[radio]),
                    ((*ZD_RADIO_ENTRY, 4, *index), GAUGE32, ap.channels[radio]),
                    ((*ZD_RADIO_ENTRY, 8, *index), GAUGE32, count),
                ]
                summary.clients_per_radio[f"{ap.name}/{radio}"] = count
        return entries, summary


class SmartZoneProfile:
    vendor: str = "ruckus-smartzone"
    fault_table: Oid = SZ_AP_ENTRY

    def __init__(self, identity: Identity) -> None:
        self.identity = identity
        self.aps = managed_aps(identity.seed, identity.name, 4)

    def build(self, moment: Moment) -> tuple[list[Entry], ApSummary]:
        entries = _base(self.identity, "SmartZone Virtual SZ-E", VSZ_OID, moment)
        summary = ApSummary()
        for number, ap in enumerate(self.aps, start=1):
            clients = ap.clients(moment)
            rx = traffic_bytes((1.0 + 0.25 * number) * _MB, moment.boot_s, moment.time_s)
            e = SZ_AP_ENTRY
            entries += [
                ((*e, 1, *ap.mac), OCTET_STRING, ap.mac),
                ((*e, 5, *ap.mac), OCTET_STRING, ap.name.encode()),
                ((*e, 8, *ap.mac), OCTET_STRING, b"R650"),
                ((*e, 15, *ap.mac), GAUGE32, sum(clients.values())),
                ((*e, 30, *ap.mac), COUNTER64, rx),
                ((*e, 31, *ap.mac), COUNTER64, rx * 4),
            ]
            summary.clients_per_radio[ap.name] = sum(clients.values())
        return entries, summary


class UnleashedProfile:
    vendor: str = "ruckus-unleashed"
    fault_table: Oid = UNLEASHED_STATS

    def __init__(self, identity: Identity) -> None:
        self.identity = identity
        self.aps = managed_aps(identity.seed, identity.name, 2)

    def build(self, moment: Moment) -> tuple[list[Entry], ApSummary]:
        entries = _base(self.identity, "Ruckus R650 Multimedia Hotzone Wireless AP", R650_OID, moment)
        summary = ApSummary()
        for ap in self.aps:
            summary.clients_per_radio[ap.name] = sum(ap.clients(moment).values())
        entries += [
            ((*UNLEASHED_STATS, 1, 0), GAUGE32, len(self.aps)),  # ruckusUnleashedSystemStatsNumAP
            ((*UNLEASHED_STATS, 2, 0), GAUGE32, summary.clients),  # ruckusUnleashedSystemStatsNumSta
        ]
        return entries, summary
