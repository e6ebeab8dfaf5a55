"""Two MikroTik layouts the recorded walk does not have: a CAPsMAN manager and a RouterOS 7 "wifi" AP.

Layouts come from MIKROTIK-MIB (the LibreNMS copy, revisions 2020-10 and 2023-05) for CAPsMAN, and,
for the RouterOS 7 wifi package (mtxrWifi, 1.3.6.1.4.1.14988.1.1.21, absent from those MIB revisions),
from public tools reading real 7.x devices. Only the columns a source documents are served:

- `mikrotik-capsman`: the manager has no radio of its own, so mtxrWlApTable/mtxrWlRtabTable are empty.
  mtxrWlCMTable (`…1.1.7.1`) has one row per CAP radio, indexed by the CAP interface's ifIndex (the
  `capN` interfaces are in IF-MIB): 2 RegClientCount and 3 AuthClientCount (Counter32 used as gauges),
  4 state, 5 channel. mtxrWlCMRtabTable (`…1.1.5.1`) is indexed by client MAC (6 sub-ids) then that
  ifIndex; its column 1 (the MAC) is readable, as the MIB declares it. mtxrWlCMRemoteTable (`…1.1.11.1`)
  lists the CAPs, mtxrWlCMRtabEntryCount (`…1.1.6.0`) and mtxrWlCMREntryCount (`…1.1.10.0`) count.
- `mikrotik-ros7`: a cAP ax with the wifi package, so the legacy mtxrWl tables are empty. The CAPsMAN
  scalars under `…1.21.1` say CAPsMAN is off (2 = false, as a recorded 7.20 walk shows), and
  mtxrWifiRegistrationTable (`…1.21.4.1`), indexed by client MAC then ifIndex, serves 3 SSID,
  4 uptime (TimeTicks), 6 signal (dBm) and 8 band.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from edge_gateway_dev.sim.snmp.ber import COUNTER32, GAUGE32, INTEGER, OCTET_STRING, TIMETICKS, Oid
from edge_gateway_dev.sim.snmp.dynamics import ClientPool, Session, drift, traffic_bytes, unit
from edge_gateway_dev.sim.snmp.mib_common import (
    IF_TYPE_BRIDGE,
    IF_TYPE_ETHERNET,
    IF_TYPE_WIFI,
    WRAP32,
    Iface,
    Moment,
    cpu_load_pct,
    host_resources,
    if_mib,
    mac_of,
    system_group,
)
from edge_gateway_dev.sim.snmp.profile_base import ApSummary, Identity
from edge_gateway_dev.sim.snmp.view import Entry

MTXR = (1, 3, 6, 1, 4, 1, 14988, 1, 1)
MIKROTIK_OBJECT_ID = (1, 3, 6, 1, 4, 1, 14988, 1)
WL_CM_RTAB_ENTRY = (*MTXR, 1, 5, 1)
WL_CM_ENTRY = (*MTXR, 1, 7, 1)
WL_CM_REMOTE_ENTRY = (*MTXR, 1, 11, 1)
WIFI_CAPSMAN = (*MTXR, 21, 1)
WIFI_REGISTRATION_ENTRY = (*MTXR, 21, 4, 1)
_CLIENT_PEAK_BYTES_PER_S = 40_000.0
_MB = 1_000_000.0


@dataclass(frozen=True, slots=True)
class _Radio:
    """One radio clients associate with: a CAP radio on the manager, or a wifi interface on the AP."""

    iface: Iface
    ssid: str
    channel: str
    five_ghz: bool
    pool: ClientPool


def _pool(seed: int, key: str, size: int, share: float) -> ClientPool:
    return ClientPool(seed, key, size + int(unit(seed, f"{key}-size") * size), share)


def _strength_dbm(radio: _Radio, session: Session, moment: Moment) -> int:
    key = f"{radio.iface.name}/{session.slot}"
    base = -45.0 - 40.0 * unit(moment.seed, key, int(session.start_s))
    return round(base + drift(moment.seed, key, moment.time_s, 5.0, 600.0))


def _rate_bps(strength_dbm: int, five_ghz: bool) -> int:
    steps = (866_700_000, 585_000_000, 351_000_000, 117_000_000)
    if not five_ghz:
        steps = (286_800_000, 172_000_000, 86_000_000, 26_000_000)
    for threshold_dbm, rate in zip((-55, -65, -72), steps, strict=False):
        if strength_dbm >= threshold_dbm:
            return rate
    return steps[-1]


def _session_bytes(radio: _Radio, session: Session, moment: Moment) -> tuple[int, int]:
    """(to the client, from the client) bytes of this session."""
    share = 0.2 + 1.6 * unit(moment.seed, f"volume/{radio.iface.name}/{session.slot}", int(session.start_s))
    down = traffic_bytes(_CLIENT_PEAK_BYTES_PER_S * share, session.start_s, moment.time_s)
    return down, down // 5


def _common(
    ident: Identity, descr: str, ifaces: list[Iface], moment: Moment, n_clients: int
) -> tuple[list[Entry], ApSummary]:
    """System, IF-MIB, HOST-RESOURCES and the health/DHCP scalars both variants share."""
    entries: list[Entry] = list(system_group(descr, MIKROTIK_OBJECT_ID, ident.name, ident.location, moment))
    entries += if_mib(ifaces, moment)
    entries += host_resources(moment, n_cpus=4, memory_kb=1048576, disk_kb=131072)
    summary = ApSummary(
        iface_octets={iface.name: iface.octets(moment) for iface in ifaces},
        cpu_pct=cpu_load_pct(moment, "cpu1", 3.0, 30.0),
    )
    summary.dhcp_leases = n_clients + int(4 * unit(moment.seed, "leases", int(moment.time_s // 300)))
    temp_dc = round(380 + 60 * moment.intensity + drift(moment.seed, "temp", moment.time_s, 15.0))
    summary.temp_c = temp_dc / 10
    entries += [
        ((*MTXR, 3, 8, 0), INTEGER, round(480 + drift(moment.seed, "volt", moment.time_s, 3.0))),
        ((*MTXR, 3, 10, 0), INTEGER, temp_dc),
        ((*MTXR, 6, 1, 0), GAUGE32, summary.dhcp_leases),
        ((*MTXR, 7, 3, 0), OCTET_STRING, mac_of(moment.seed, "serial").hex().upper().encode()),
    ]
    return entries, summary


class CapsmanProfile:
    """A CAPsMAN manager (RB4011 class) running three dual-radio CAPs."""

    vendor: str = "mikrotik-capsman"
    fault_table: Oid = WL_CM_RTAB_ENTRY

    def __init__(self, identity: Identity) -> None:
        self.identity = identity
        seed = identity.seed
        self.ifaces = [
            Iface(
                1, "ether1-wan", IF_TYPE_ETHERNET, 1_000_000_000, mac_of(seed, "ether1"), 6.0 * _MB, 1.4 * _MB
            ),
            Iface(2, "ether2", IF_TYPE_ETHERNET, 1_000_000_000, mac_of(seed, "ether2"), 1.2 * _MB, 5.5 * _MB),
            Iface(3, "bridge", IF_TYPE_BRIDGE, 0, mac_of(seed, "bridge"), 1.2 * _MB, 5.5 * _MB),
        ]
        self.caps = [f"cap-{site}" for site in ("alun-alun", "kejaksan", "pasar-kanoman")]
        self.radios: list[_Radio] = []
        for n in range(6):
            index, name, five = 4 + n, f"cap{n + 1}", n % 2 == 1
            iface = Iface(index, name, IF_TYPE_WIFI, 0, mac_of(seed, name), 0.2 * _MB, 1.0 * _MB)
            channel = "5180/20-Ceee/ac" if five else "2437/20-Ce/gn"
            pool = _pool(seed, name, 12 if five else 16, 0.7)
            self.radios.append(_Radio(iface, "CirebonKota-Free-WiFi", channel, five, pool))
        self.ifaces += [radio.iface for radio in self.radios]

    def build(self, moment: Moment) -> tuple[list[Entry], ApSummary]:
        sessions = {
            radio.iface.name: radio.pool.sessions(moment.time_s, moment.boot_s) for radio in self.radios
        }
        n_clients = sum(len(found) for found in sessions.values())
        entries, summary = _common(self.identity, "RouterOS RB4011iGS+", self.ifaces, moment, n_clients)
        for radio in self.radios:
            found = sessions[radio.iface.name]
            summary.clients_per_radio[radio.iface.name] = len(found)
            entries += self._cm_row(radio, len(found))
            for session in found:
                entries += self._rtab_row(radio, session, moment)
        for number, name in enumerate(self.caps, start=1):
            e = WL_CM_REMOTE_ENTRY
            entries += [
                ((*e, 2, number), OCTET_STRING, name.encode()),
                ((*e, 3, number), OCTET_STRING, b"Run"),
                ((*e, 4, number), OCTET_STRING, f"10.5.9.{10 + number}".encode()),
                ((*e, 5, number), COUNTER32, 2),
            ]
        entries += [
            ((*MTXR, 1, 6, 0), GAUGE32, n_clients),
            ((*MTXR, 1, 10, 0), GAUGE32, len(self.caps)),
        ]
        return entries, summary

    def _cm_row(self, radio: _Radio, n_clients: int) -> Iterator[Entry]:
        i = radio.iface.index
        yield (*WL_CM_ENTRY, 2, i), COUNTER32, n_clients
        yield (*WL_CM_ENTRY, 3, i), COUNTER32, n_clients
        yield (*WL_CM_ENTRY, 4, i), OCTET_STRING, b"running-ap"
        yield (*WL_CM_ENTRY, 5, i), OCTET_STRING, radio.channel.encode()

    def _rtab_row(self, radio: _Radio, session: Session, moment: Moment) -> Iterator[Entry]:
        index = (*session.mac, radio.iface.index)
        strength = _strength_dbm(radio, session, moment)
        tx_bytes, rx_bytes = _session_bytes(radio, session, moment)
        tx_rate = _rate_bps(strength, radio.five_ghz)
        e = WL_CM_RTAB_ENTRY
        yield (*e, 1, *index), OCTET_STRING, session.mac
        yield (*e, 3, *index), TIMETICKS, int((moment.time_s - session.start_s) * 100)
        yield (*e, 4, *index), COUNTER32, tx_bytes % WRAP32
        yield (*e, 5, *index), COUNTER32, rx_bytes % WRAP32
        yield (*e, 6, *index), COUNTER32, (tx_bytes // 1100) % WRAP32
        yield (*e, 7, *index), COUNTER32, (rx_bytes // 400) % WRAP32
        yield (*e, 8, *index), GAUGE32, tx_rate
        yield (*e, 9, *index), GAUGE32, tx_rate * 2 // 3
        yield (*e, 10, *index), INTEGER, strength + 2
        yield (*e, 11, *index), INTEGER, strength
        yield (*e, 12, *index), OCTET_STRING, radio.ssid.encode()
        yield (*e, 13, *index), OCTET_STRING, b""


class Ros7WifiProfile:
    """A cAP ax on RouterOS 7 with the wifi package: clients only in mtxrWifiRegistrationTable."""

    vendor: str = "mikrotik-ros7"
    fault_table: Oid = WIFI_REGISTRATION_ENTRY

    def __init__(self, identity: Identity) -> None:
        self.identity = identity
        seed = identity.seed
        wifi1 = Iface(3, "wifi1", IF_TYPE_WIFI, 0, mac_of(seed, "wifi1"), 0.4 * _MB, 2.2 * _MB)
        wifi2 = Iface(4, "wifi2", IF_TYPE_WIFI, 0, mac_of(seed, "wifi2"), 0.2 * _MB, 0.9 * _MB)
        self.radios = [
            _Radio(wifi1, "CirebonKota-Free-WiFi", "5ghz-ax", True, _pool(seed, "wifi1", 14, 0.7)),
            _Radio(wifi2, "CirebonKota-Free-WiFi", "2ghz-ax", False, _pool(seed, "wifi2", 10, 0.75)),
        ]
        self.ifaces = [
            Iface(1, "ether1", IF_TYPE_ETHERNET, 1_000_000_000, mac_of(seed, "ether1"), 2.5 * _MB, 0.6 * _MB),
            Iface(2, "ether2", IF_TYPE_ETHERNET, 1_000_000_000, mac_of(seed, "ether2"), 0.0, 0.0, False),
            wifi1,
            wifi2,
            Iface(5, "bridge", IF_TYPE_BRIDGE, 0, mac_of(seed, "bridge"), 0.6 * _MB, 2.5 * _MB),
        ]

    def build(self, moment: Moment) -> tuple[list[Entry], ApSummary]:
        sessions = {
            radio.iface.name: radio.pool.sessions(moment.time_s, moment.boot_s) for radio in self.radios
        }
        n_clients = sum(len(found) for found in sessions.values())
        descr = "RouterOS cAPGi-5HaxD2HaxD"
        entries, summary = _common(self.identity, descr, self.ifaces, moment, n_clients)
        entries += [
            ((*WIFI_CAPSMAN, 1, 0), INTEGER, 2),
            ((*WIFI_CAPSMAN, 3, 0), OCTET_STRING, b"none"),
            ((*WIFI_CAPSMAN, 4, 0), OCTET_STRING, b"none"),
            ((*WIFI_CAPSMAN, 5, 0), INTEGER, 2),
        ]
        for radio in self.radios:
            found = sessions[radio.iface.name]
            summary.clients_per_radio[radio.iface.name] = len(found)
            for session in found:
                index = (*session.mac, radio.iface.index)
                e = WIFI_REGISTRATION_ENTRY
                entries += [
                    ((*e, 3, *index), OCTET_STRING, radio.ssid.encode()),
                    ((*e, 4, *index), TIMETICKS, int((moment.time_s - session.start_s) * 100)),
                    ((*e, 6, *index), INTEGER, _strength_dbm(radio, session, moment)),
                    ((*e, 8, *index), OCTET_STRING, radio.channel.encode()),
                ]
        return entries, summary
