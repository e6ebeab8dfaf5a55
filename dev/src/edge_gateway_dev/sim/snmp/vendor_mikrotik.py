"""MikroTik RouterOS hotspot AP (hAP ac lite class), modelled on the recorded RouterOS walk.

Interfaces keep the walk's ifIndex layout: wlan1 (2.4 GHz) = 1, wlan2 (5 GHz) = 2, virtual APs wlan3 = 8
(on wlan1) and wlan4 = 9 (on wlan2) carrying the hotspot SSID. As in the walk, virtual APs report
frequency 0, noise 0 and CCQ 0 in mtxrWlApTable, mtxrWlApClientCount is a Counter32 used as a gauge, and
mtxrWlRtabTable is indexed by the client MAC (6 sub-ids) then the ifIndex. The hotspot active-users
table follows MIKROTIK-MIB (mtxrHotspotActiveUsersTable, 1.3.6.1.4.1.14988.1.1.5.1), one row per
logged-in hotspot user, indexed by an internal session number.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from edge_gateway_dev.sim.snmp.ber import (
    COUNTER32,
    COUNTER64,
    GAUGE32,
    INTEGER,
    IP_ADDRESS,
    OCTET_STRING,
    TIMETICKS,
    Oid,
)
from edge_gateway_dev.sim.snmp.dynamics import ClientPool, Session, drift, traffic_bytes, unit
from edge_gateway_dev.sim.snmp.mib_common import (
    IF_TYPE_BRIDGE,
    IF_TYPE_ETHERNET,
    IF_TYPE_PPP,
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
WL_RTAB_ENTRY = (*MTXR, 1, 2, 1)
WL_AP_ENTRY = (*MTXR, 1, 3, 1)
HOTSPOT_ENTRY = (*MTXR, 5, 1, 1)
ROS_VERSION = "6.49.10"
_CLIENT_PEAK_BYTES_PER_S = 40_000.0


@dataclass(frozen=True, slots=True)
class _Wlan:
    index: int
    name: str
    ssid: str
    freq_mhz: int  # 0 for a virtual AP, as RouterOS reports it
    band: str
    radio_index: int  # the physical radio (itself for wlan1/wlan2)
    pool: ClientPool
    hotspot: bool


def _rate_bps(strength_dbm: int, five_ghz: bool) -> int:
    steps = (
        (433_300_000, 292_500_000, 175_500_000, 58_500_000)
        if five_ghz
        else (
            144_400_000,
            86_700_000,
            43_300_000,
            13_000_000,
        )
    )
    for threshold_dbm, rate in zip((-55, -65, -72), steps, strict=False):
        if strength_dbm >= threshold_dbm:
            return rate
    return steps[-1]


class MikrotikProfile:
    vendor: str = "mikrotik"
    fault_table: Oid = WL_RTAB_ENTRY

    def __init__(self, identity: Identity) -> None:
        self.identity = identity
        seed = identity.seed
        scale = 0.6 + 0.8 * unit(seed, "traffic-scale")
        channel_24 = (2412, 2437, 2462)[int(unit(seed, "ch24") * 3)]
        channel_5 = (5180, 5220, 5745, 5805)[int(unit(seed, "ch5") * 4)]
        hotspot_ssid = "CirebonKota-Free-WiFi"
        private_ssid = f"{identity.name.upper()}-ADMIN"

        def pool(key: str, size: int, share: float) -> ClientPool:
            return ClientPool(seed, key, size + int(unit(seed, f"{key}-size") * size), share)

        self.wlans = [
            _Wlan(
                1,
                "wlan1",
                private_ssid,
                channel_24,
                f"{channel_24}/20-Ce/gn",
                1,
                pool("wlan1", 4, 0.5),
                False,
            ),
            _Wlan(2, "wlan2", private_ssid, channel_5, f"{channel_5}/20/ac", 2, pool("wlan2", 3, 0.5), False),
            _Wlan(8, "wlan3", hotspot_ssid, 0, "", 1, pool("wlan3", 18, 0.75), True),
            _Wlan(9, "wlan4", hotspot_ssid, 0, "", 2, pool("wlan4", 12, 0.7), True),
        ]
        mb = 1_000_000.0

        def iface(index: int, name: str, kind: int, speed: int, peak_in: float, peak_out: float) -> Iface:
            mac = mac_of(seed, name)
            return Iface(index, name, kind, speed, mac, peak_in * scale, peak_out * scale, peak_in > 0)

        self.ifaces = [
            iface(1, "wlan1", IF_TYPE_WIFI, 144_000_000, 0.25 * mb, 1.1 * mb),
            iface(2, "wlan2", IF_TYPE_WIFI, 433_000_000, 0.3 * mb, 1.6 * mb),
            iface(3, "WAN", IF_TYPE_ETHERNET, 100_000_000, 3.2 * mb, 0.7 * mb),
            iface(4, "ether2", IF_TYPE_ETHERNET, 100_000_000, 0.02 * mb, 0.05 * mb),
            iface(5, "ether3", IF_TYPE_ETHERNET, 100_000_000, 0.0, 0.0),
            iface(6, "ether4", IF_TYPE_ETHERNET, 100_000_000, 0.0, 0.0),
            iface(7, "ether5", IF_TYPE_ETHERNET, 100_000_000, 0.0, 0.0),
            iface(8, "wlan3", IF_TYPE_WIFI, 144_000_000, 0.2 * mb, 0.9 * mb),
            iface(9, "wlan4", IF_TYPE_WIFI, 433_000_000, 0.25 * mb, 1.2 * mb),
            iface(10, "bridge-local", IF_TYPE_BRIDGE, 0, 0.3 * mb, 1.5 * mb),
            iface(11, "pppoe-out1", IF_TYPE_PPP, 0, 3.1 * mb, 0.68 * mb),
            iface(12, "bridge-hotspot", IF_TYPE_BRIDGE, 0, 0.45 * mb, 2.1 * mb),
        ]

    def _noise_dbm(self, wlan: _Wlan, moment: Moment) -> int:
        base = -110 if wlan.radio_index == 1 else -114
        return round(base + drift(moment.seed, f"noise{wlan.radio_index}", moment.time_s, 4.0))

    def _strength_dbm(self, wlan: _Wlan, session: Session, moment: Moment) -> int:
        key = f"{wlan.name}/{session.slot}"
        base = -48.0 - 40.0 * unit(moment.seed, key, int(session.start_s))
        return round(base + drift(moment.seed, key, moment.time_s, 5.0, 600.0))

    def build(self, moment: Moment) -> tuple[list[Entry], ApSummary]:
        ident = self.identity
        entries: list[Entry] = []
        summary = ApSummary()
        entries += system_group(
            "RouterOS RB952Ui-5ac2nD", (1, 3, 6, 1, 4, 1, 14988, 1), ident.name, ident.location, moment
        )
        entries += if_mib(self.ifaces, moment)
        entries += host_resources(moment, n_cpus=1, memory_kb=65536, disk_kb=16384)
        summary.iface_octets = {iface.name: iface.octets(moment) for iface in self.ifaces}
        summary.cpu_pct = cpu_load_pct(moment, "cpu1", 4.0, 38.0)
        n_rtab = 0
        n_users = 0
        for wlan in self.wlans:
            sessions = wlan.pool.sessions(moment.time_s, moment.boot_s)
            summary.clients_per_radio[wlan.name] = len(sessions)
            n_rtab += len(sessions)
            entries += self._ap_row(wlan, len(sessions), moment)
            for session in sessions:
                entries += self._rtab_row(wlan, session, moment)
                if (
                    wlan.hotspot
                    and unit(moment.seed, f"login/{wlan.name}/{session.slot}", int(session.start_s)) < 0.85
                ):
                    n_users += 1
                    entries += self._hotspot_row(wlan, session, moment)
        summary.hotspot_users = n_users
        summary.dhcp_leases = n_rtab + int(4 * unit(moment.seed, "leases", int(moment.time_s // 300)))
        temp_dc = round(330 + 60 * moment.intensity + drift(moment.seed, "temp", moment.time_s, 15.0))
        summary.temp_c = temp_dc / 10
        entries += [
            ((*MTXR, 1, 4, 0), GAUGE32, n_rtab),
            ((*MTXR, 3, 8, 0), INTEGER, round(240 + drift(moment.seed, "volt", moment.time_s, 3.0))),
            ((*MTXR, 3, 10, 0), INTEGER, temp_dc),
            ((*MTXR, 4, 4, 0), OCTET_STRING, ROS_VERSION.encode()),
            ((*MTXR, 6, 1, 0), GAUGE32, summary.dhcp_leases),
            ((*MTXR, 7, 3, 0), OCTET_STRING, mac_of(moment.seed, "serial").hex().upper().encode()),
            ((*MTXR, 7, 4, 0), OCTET_STRING, ROS_VERSION.encode()),
        ]
        return entries, summary

    def _ap_row(self, wlan: _Wlan, n_clients: int, moment: Moment) -> Iterator[Entry]:
        i = wlan.index
        physical = wlan.freq_mhz != 0
        ccq = round(78 + drift(moment.seed, f"ccq{i}", moment.time_s, 12.0)) if physical and n_clients else 0
        yield (*WL_AP_ENTRY, 2, i), GAUGE32, 0
        yield (*WL_AP_ENTRY, 3, i), GAUGE32, 0
        yield (*WL_AP_ENTRY, 4, i), OCTET_STRING, wlan.ssid.encode()
        yield (*WL_AP_ENTRY, 5, i), OCTET_STRING, mac_of(moment.seed, wlan.name)
        yield (*WL_AP_ENTRY, 6, i), COUNTER32, n_clients
        yield (*WL_AP_ENTRY, 7, i), INTEGER, wlan.freq_mhz
        yield (*WL_AP_ENTRY, 8, i), OCTET_STRING, wlan.band.encode()
        yield (*WL_AP_ENTRY, 9, i), INTEGER, self._noise_dbm(wlan, moment) if physical else 0
        yield (*WL_AP_ENTRY, 10, i), COUNTER32, ccq
        yield (*WL_AP_ENTRY, 11, i), COUNTER32, n_clients

    def _client_bytes(self, wlan: _Wlan, session: Session, moment: Moment) -> tuple[int, int]:
        """(to the client, from the client) bytes of this session: the AP's tx and rx."""
        share = 0.2 + 1.6 * unit(moment.seed, f"volume/{wlan.name}/{session.slot}", int(session.start_s))
        down = traffic_bytes(_CLIENT_PEAK_BYTES_PER_S * share, session.start_s, moment.time_s)
        return down, down // 5

    def _rtab_row(self, wlan: _Wlan, session: Session, moment: Moment) -> Iterator[Entry]:
        index = (*session.mac, wlan.index)
        strength = self._strength_dbm(wlan, session, moment)
        noise = self._noise_dbm(self.wlans[0 if wlan.radio_index == 1 else 1], moment)
        tx_bytes, rx_bytes = self._client_bytes(wlan, session, moment)
        tx_rate = _rate_bps(strength, wlan.radio_index == 2)
        e = WL_RTAB_ENTRY
        yield (*e, 3, *index), INTEGER, strength
        yield (*e, 4, *index), COUNTER32, tx_bytes % WRAP32
        yield (*e, 5, *index), COUNTER32, rx_bytes % WRAP32
        yield (*e, 6, *index), COUNTER32, (tx_bytes // 1100) % WRAP32
        yield (*e, 7, *index), COUNTER32, (rx_bytes // 400) % WRAP32
        yield (*e, 8, *index), GAUGE32, tx_rate
        yield (*e, 9, *index), GAUGE32, tx_rate * 2 // 3
        yield (*e, 11, *index), TIMETICKS, int((moment.time_s - session.start_s) * 100)
        yield (*e, 12, *index), INTEGER, strength - noise
        yield (*e, 13, *index), INTEGER, strength - 1
        yield (*e, 14, *index), INTEGER, strength + 1

    def _hotspot_row(self, wlan: _Wlan, session: Session, moment: Moment) -> Iterator[Entry]:
        index = (100 if wlan.index == 8 else 200) + session.slot
        host = 2 + session.slot + (0 if wlan.index == 8 else 100)
        tx_bytes, rx_bytes = self._client_bytes(wlan, session, moment)
        code = unit(moment.seed, f"voucher/{wlan.name}/{session.slot}", int(session.start_s))
        voucher = f"vc-{int(code * 1e6):06d}"
        e = HOTSPOT_ENTRY
        yield (*e, 2, index), INTEGER, 1
        yield (*e, 3, index), OCTET_STRING, voucher.encode()
        yield (*e, 4, index), OCTET_STRING, b""
        yield (*e, 5, index), IP_ADDRESS, bytes((10, 5, 50, host))
        yield (*e, 6, index), OCTET_STRING, session.mac
        yield (*e, 7, index), INTEGER, int(moment.time_s - session.start_s)
        yield (*e, 8, index), INTEGER, 0
        yield (*e, 9, index), INTEGER, 0
        yield (*e, 10, index), INTEGER, 300
        yield (*e, 11, index), INTEGER, 0
        yield (*e, 12, index), COUNTER64, rx_bytes
        yield (*e, 13, index), COUNTER64, tx_bytes
        yield (*e, 14, index), COUNTER64, rx_bytes // 400
        yield (*e, 15, index), COUNTER64, tx_bytes // 1100
