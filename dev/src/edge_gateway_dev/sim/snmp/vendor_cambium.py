"""Cambium PMP 450 and ePMP access points, modelled on their MIBs (no recorded walk of either).

PMP 450 (WHISP-APS-MIB, enterprise 161.19): the AP serves one sector; regCount is the number of
registered subscriber modules, currentRadioFreqCarrier the carrier in kHz, frUtlLowTotalDownlinkUtilization
the last minute's downlink frame use in percent, all scalars under whispApsStatus / whispApsFrUtlStats.
ePMP (CAMBIUM-MIB, enterprise 17713.21): cambiumRFStatus scalars, cambiumSTAConnectedRFFrequency (MHz)
and cambiumAPNumberOfConnectedSTA. Both serve IF-MIB: an Ethernet port and the radio.
"""

from __future__ import annotations

from edge_gateway_dev.sim.snmp.ber import GAUGE32, INTEGER, Oid
from edge_gateway_dev.sim.snmp.dynamics import ClientPool, drift, unit
from edge_gateway_dev.sim.snmp.mib_common import (
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

WHISP_APS_STATUS = (1, 3, 6, 1, 4, 1, 161, 19, 3, 1, 7)
WHISP_APS_FR_UTL_LOW = (1, 3, 6, 1, 4, 1, 161, 19, 3, 1, 12, 1)
PMP450_AP_OID = (1, 3, 6, 1, 4, 1, 161, 19, 250, 256)
CAMBIUM_RF_STATUS = (1, 3, 6, 1, 4, 1, 17713, 21, 1, 2)
EPMP_OID = (1, 3, 6, 1, 4, 1, 17713, 21)
_MB = 1_000_000.0


def _ifaces(seed: int, radio: str, radio_speed_bps: int) -> list[Iface]:
    return [
        Iface(1, "eth0", IF_TYPE_ETHERNET, 1_000_000_000, mac_of(seed, "eth0"), 3.0 * _MB, 12.0 * _MB),
        Iface(2, radio, IF_TYPE_WIFI, radio_speed_bps, mac_of(seed, radio), 12.0 * _MB, 3.0 * _MB),
    ]


class Pmp450Profile:
    vendor: str = "cambium-pmp450"
    fault_table: Oid = WHISP_APS_STATUS

    def __init__(self, identity: Identity) -> None:
        self.identity = identity
        self.pool = ClientPool(identity.seed, "sector", 30 + int(unit(identity.seed, "sms") * 30), 0.9)
        self.ifaces = _ifaces(identity.seed, "MultiPoint Wireless", 300_000_000)
        self.carrier_khz = (5_740_000, 5_760_000, 5_780_000)[int(unit(identity.seed, "carrier") * 3)]

    def build(self, moment: Moment) -> tuple[list[Entry], ApSummary]:
        ident, t = self.identity, moment.time_s
        registered = len(self.pool.sessions(t, moment.boot_s))
        entries: list[Entry] = list(
            system_group("CANOPY 20.0.1 AP-DES", PMP450_AP_OID, ident.name, ident.location, moment)
        )
        entries += if_mib(self.ifaces, moment)
        entries += snmp_engine_group(ident.engine_id, moment)
        util = max(0, min(100, round(15 + 60 * moment.intensity + drift(moment.seed, "frutl", t, 6.0))))
        entries += [
            ((*WHISP_APS_STATUS, 1, 0), INTEGER, registered),  # regCount
            ((*WHISP_APS_STATUS, 37, 0), INTEGER, self.carrier_khz),  # currentRadioFreqCarrier, kHz
            ((*WHISP_APS_FR_UTL_LOW, 1, 0), INTEGER, util),  # frUtlLowTotalDownlinkUtilization
            ((*WHISP_APS_FR_UTL_LOW, 2, 0), INTEGER, max(0, util // 3)),  # ...UplinkUtilization
        ]
        summary = ApSummary(clients_per_radio={"0": registered})
        summary.iface_octets = {iface.name: iface.octets(moment) for iface in self.ifaces}
        return entries, summary


class EpmpProfile:
    vendor: str = "cambium-epmp"
    fault_table: Oid = CAMBIUM_RF_STATUS

    def __init__(self, identity: Identity) -> None:
        self.identity = identity
        self.pool = ClientPool(identity.seed, "epmp", 20 + int(unit(identity.seed, "stas") * 20), 0.85)
        self.ifaces = _ifaces(identity.seed, "wlan0", 450_000_000)
        self.freq_mhz = (5180, 5745, 5805)[int(unit(identity.seed, "freq") * 3)]

    def build(self, moment: Moment) -> tuple[list[Entry], ApSummary]:
        ident = self.identity
        connected = len(self.pool.sessions(moment.time_s, moment.boot_s))
        entries: list[Entry] = list(
            system_group("Cambium Networks ePMP 3000", EPMP_OID, ident.name, ident.location, moment)
        )
        entries += if_mib(self.ifaces, moment)
        entries += snmp_engine_group(ident.engine_id, moment)
        entries += [
            ((*CAMBIUM_RF_STATUS, 1, 0), INTEGER, self.freq_mhz),  # cambiumSTAConnectedRFFrequency
            ((*CAMBIUM_RF_STATUS, 10, 0), GAUGE32, connected),  # cambiumAPNumberOfConnectedSTA
        ]
        summary = ApSummary(clients_per_radio={"0": connected})
        summary.iface_octets = {iface.name: iface.octets(moment) for iface in self.ifaces}
        return entries, summary
