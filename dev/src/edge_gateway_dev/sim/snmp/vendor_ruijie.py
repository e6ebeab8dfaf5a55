"""Ruijie wireless controller (RG-WS6008 class), modelled on RUIJIE-AC-MGMT-MIB (no recorded walk).

ruijieApgCfgTable (…4881.1.1.10.2.56.2.1.1) has a row per managed AP, indexed by the AP's MAC (6 sub-ids):
ruijieApMacAddr (.1), the AP's name (.2), its IP (.33) and the stations attached to it (.34).
ruijieApCfgRadioTable (…56.2.1.2.1) has a row per AP radio, indexed by the AP's MAC then
ruijieApCfgRadioId: the radio id (.1), ruijieApRadioEn (.2, 1 enabled), ruijieApCurChan (.11, the channel
in use) and ruijieApCurTxPower (.17, dBm; its own value per AP radio, so a row joined to the wrong AP or
radio shows). The MIB counts stations per AP, not per radio. The controller manages 3 simulated APs;
ground truth `clients_per_radio` is keyed by AP name (per AP).
"""

from __future__ import annotations

from edge_gateway_dev.sim.snmp.ber import INTEGER, IP_ADDRESS, OCTET_STRING, Oid
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

APG_CFG_ENTRY = (1, 3, 6, 1, 4, 1, 4881, 1, 1, 10, 2, 56, 2, 1, 1, 1)
AP_CFG_RADIO_ENTRY = (1, 3, 6, 1, 4, 1, 4881, 1, 1, 10, 2, 56, 2, 1, 2, 1)
WS6008_OID = (1, 3, 6, 1, 4, 1, 4881, 1, 1, 10, 1, 215)  # illustrative: the profile needs only 4881
_MB = 1_000_000.0
_TX_POWER_DBM = {1: 20, 2: 23}  # radio 1 is 2.4 GHz, radio 2 5 GHz; each further AP 1 dB lower


class RuijieAcProfile:
    vendor: str = "ruijie-ac"
    fault_table: Oid = APG_CFG_ENTRY

    def __init__(self, identity: Identity) -> None:
        self.identity = identity
        self.aps = managed_aps(identity.seed, identity.name, 3)
        mac = mac_of(identity.seed, "gi0/1")
        self.ifaces = [
            Iface(1, "GigabitEthernet 0/1", IF_TYPE_ETHERNET, 1_000_000_000, mac, 3 * _MB, 8 * _MB)
        ]

    def build(self, moment: Moment) -> tuple[list[Entry], ApSummary]:
        ident = self.identity
        descr = "Ruijie Wireless Controller (WS6008) By Ruijie Networks"
        entries: list[Entry] = list(system_group(descr, WS6008_OID, ident.name, ident.location, moment))
        entries += if_mib(self.ifaces, moment)
        entries += snmp_engine_group(ident.engine_id, moment)
        summary = ApSummary()
        for number, ap in enumerate(self.aps, start=1):
            stations = sum(ap.clients(moment).values())
            m = ap.mac
            entries += [
                ((*APG_CFG_ENTRY, 1, *m), OCTET_STRING, m),
                ((*APG_CFG_ENTRY, 2, *m), OCTET_STRING, ap.name.encode()),
                ((*APG_CFG_ENTRY, 33, *m), IP_ADDRESS, bytes((10, 40, 0, 10 + number))),
                ((*APG_CFG_ENTRY, 34, *m), INTEGER, stations),
            ]
            for radio, channel in ap.channels.items():
                index, power_dbm = (*m, radio), _TX_POWER_DBM[radio] - number + 1
                entries += [
                    ((*AP_CFG_RADIO_ENTRY, 1, *index), INTEGER, radio),  # ruijieApCfgRadioId
                    ((*AP_CFG_RADIO_ENTRY, 2, *index), INTEGER, 1),  # ruijieApRadioEn
                    ((*AP_CFG_RADIO_ENTRY, 11, *index), INTEGER, channel),  # ruijieApCurChan
                    ((*AP_CFG_RADIO_ENTRY, 17, *index), INTEGER, power_dbm),  # ruijieApCurTxPower
                ]
            summary.clients_per_radio[ap.name] = stations
        return entries, summary
