"""Ubiquiti UniFi AP and airMAX AP, modelled on the recorded UAP and Rocket Prism 5AC walks.

UniFi: unifiVapTable has one row per SSID per radio, unifiRadioTable one row per radio with channel
utilisation (unifiRadioCuTotal, %), FROGFOOT-RESOURCES-MIB gives memory and load averages, and, as on the
real AP, there is no IF-MIB at all and no CPU percentage (no hrProcessorTable; UBNT-UniFi-MIB has none), so
the ground truth's `cpu_pct` is None. airMAX: the ubntWlStatTable / ubntRadioTable / ubntAirMaxTable scalar
rows of the Prism walk, plus ubntStaTable per station (index: ubntWlStatIndex then the MAC) and IF-MIB.
Both identify as sysObjectID 1.3.6.1.4.1.10002.1 (Frogfoot), as the walks do.
"""

from __future__ import annotations

from collections.abc import Iterator

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
from edge_gateway_dev.sim.snmp.dynamics import ClientPool, drift, traffic_bytes, unit
from edge_gateway_dev.sim.snmp.mib_common import (
    HR,
    IF_TYPE_BRIDGE,
    IF_TYPE_ETHERNET,
    IF_TYPE_WIFI,
    WRAP32,
    Iface,
    Moment,
    cpu_load_pct,
    if_mib,
    mac_of,
    snmp_engine_group,
    system_group,
)
from edge_gateway_dev.sim.snmp.profile_base import ApSummary, Identity
from edge_gateway_dev.sim.snmp.view import Entry

FROGFOOT = (1, 3, 6, 1, 4, 1, 10002, 1)
FROGFOOT_RES = (*FROGFOOT, 1, 1)
UNIFI = (1, 3, 6, 1, 4, 1, 41112, 1, 6)
UNIFI_RADIO_ENTRY = (*UNIFI, 1, 1, 1)
UNIFI_VAP_ENTRY = (*UNIFI, 1, 2, 1)
AIRMAX = (1, 3, 6, 1, 4, 1, 41112, 1, 4)
DOT11_PRODUCT = (1, 2, 840, 10036, 3, 1, 2, 1)
_SSIDS = ("CirebonKota-Free-WiFi", "Diskominfo-Staff")
_CLIENT_PEAK_BYTES_PER_S = 35_000.0


def _frogfoot(moment: Moment, memory_kb: int) -> Iterator[Entry]:
    free_kb = int(
        memory_kb * (0.5 - 0.15 * moment.intensity + drift(moment.seed, "memfree", moment.time_s, 0.02))
    )
    yield (*FROGFOOT_RES, 1, 1, 0), GAUGE32, memory_kb
    yield (*FROGFOOT_RES, 1, 2, 0), GAUGE32, free_kb
    yield (*FROGFOOT_RES, 1, 3, 0), GAUGE32, 8
    yield (*FROGFOOT_RES, 1, 4, 0), GAUGE32, memory_kb // 6
    yield (*FROGFOOT_RES, 2, 1, 0), GAUGE32, 0
    yield (*FROGFOOT_RES, 2, 2, 0), GAUGE32, 0
    yield (*FROGFOOT_RES, 4, 1, 0), INTEGER, 3
    for index, label in enumerate(("1 Minute Average", "5 Minute Average", "15 Minute Average"), start=1):
        load = 0.08 + 0.5 * moment.intensity + drift(moment.seed, f"load{index}", moment.time_s, 0.1 / index)
        yield (*FROGFOOT_RES, 4, 2, 1, 1, index), INTEGER, index
        yield (*FROGFOOT_RES, 4, 2, 1, 2, index), OCTET_STRING, label.encode()
        yield (*FROGFOOT_RES, 4, 2, 1, 3, index), GAUGE32, max(0, round(load * 100))


class UnifiProfile:
    vendor: str = "unifi"
    fault_table: Oid = UNIFI_VAP_ENTRY

    def __init__(self, identity: Identity) -> None:
        self.identity = identity
        seed = identity.seed
        self.channels = {
            "ng": (1, 6, 11)[int(unit(seed, "ch24") * 3)],
            "na": (36, 44, 149)[int(unit(seed, "ch5") * 3)],
        }
        # VAP index: radio-major, SSID-minor, as the UAP numbers ath0..ath3.
        self.vaps = [
            (
                1 + 2 * r + s,
                radio,
                ssid,
                ClientPool(seed, f"{radio}/{s}", 14 if s == 0 else 4, 0.75 if s == 0 else 0.5),
            )
            for r, radio in enumerate(("ng", "na"))
            for s, ssid in enumerate(_SSIDS)
        ]

    def build(self, moment: Moment) -> tuple[list[Entry], ApSummary]:
        ident = self.identity
        seed, t = moment.seed, moment.time_s
        summary = ApSummary()
        entries: list[Entry] = list(
            system_group(
                "Linux 3.3.8 #1 Wed Jan 18 09:26:53 PST 2017 mips",
                FROGFOOT,
                ident.name,
                ident.location,
                moment,
            )
        )
        entries.append(((*HR, 1, 1, 0), TIMETICKS, (moment.uptime_ticks + 100) % WRAP32))
        entries.append(((*DOT11_PRODUCT, 3, 6), OCTET_STRING, b"UAP-AC-Lite"))
        entries += _frogfoot(moment, 126_000)
        entries += snmp_engine_group(ident.engine_id, moment)
        radio_bytes = {"ng": [0, 0], "na": [0, 0]}
        for index, radio, ssid, pool in self.vaps:
            sessions = pool.sessions(t, moment.boot_s)
            summary.clients_per_radio[f"ath{index - 1}"] = len(sessions)
            # VAP counters run since boot (not per session), so they only grow until they wrap.
            peak = _CLIENT_PEAK_BYTES_PER_S * 0.2 * pool.size * pool.peak_share
            rx_bytes = traffic_bytes(peak, moment.boot_s, t)
            tx_bytes = rx_bytes * 5
            radio_bytes[radio][0] += rx_bytes
            radio_bytes[radio][1] += tx_bytes
            e, i = UNIFI_VAP_ENTRY, index
            ccq = round(850 + drift(seed, f"ccq{i}", t, 120.0)) if sessions else 0  # no station: unknown
            rows: list[Entry] = [
                ((*e, 2, i), OCTET_STRING, mac_of(seed, f"vap{i}")),
                ((*e, 3, i), INTEGER, ccq),
                ((*e, 4, i), INTEGER, self.channels[radio]),
                ((*e, 5, i), INTEGER, 0 if radio == "ng" else 1),
                ((*e, 6, i), OCTET_STRING, ssid.encode()),
                ((*e, 7, i), OCTET_STRING, f"ath{i - 1}".encode()),
                ((*e, 8, i), INTEGER, len(sessions)),
                ((*e, 9, i), OCTET_STRING, radio.encode()),
                ((*e, 10, i), COUNTER32, rx_bytes % WRAP32),
                ((*e, 11, i), COUNTER32, 0),
                ((*e, 12, i), COUNTER32, (rx_bytes // 2_000_000) % WRAP32),
                ((*e, 13, i), COUNTER32, 0),
                ((*e, 14, i), COUNTER32, 0),
                ((*e, 15, i), COUNTER32, (rx_bytes // 400) % WRAP32),
                ((*e, 16, i), COUNTER32, tx_bytes % WRAP32),
                ((*e, 17, i), COUNTER32, (tx_bytes // 5_000_000) % WRAP32),
                ((*e, 18, i), COUNTER32, 0),
                ((*e, 19, i), COUNTER32, (tx_bytes // 1100) % WRAP32),
                ((*e, 20, i), COUNTER32, (tx_bytes // 30_000) % WRAP32),
                ((*e, 21, i), INTEGER, 17 if radio == "ng" else 20),
                ((*e, 22, i), INTEGER, 1),
                ((*e, 23, i), OCTET_STRING, b"guest" if i % 2 else b"user"),
            ]
            entries += rows
        for index, radio in enumerate(("ng", "na"), start=1):
            self_rx = round(3 + 12 * moment.intensity + drift(seed, f"cu-rx{index}", t, 2.0))
            self_tx = round(5 + 20 * moment.intensity + drift(seed, f"cu-tx{index}", t, 3.0))
            other = max(0, round((18 if radio == "ng" else 6) + drift(seed, f"cu-bss{index}", t, 5.0)))
            e = UNIFI_RADIO_ENTRY
            entries += [
                ((*e, 2, index), OCTET_STRING, f"wifi{index - 1}".encode()),
                ((*e, 3, index), OCTET_STRING, radio.encode()),
                ((*e, 4, index), COUNTER32, (radio_bytes[radio][0] // 400) % WRAP32),
                ((*e, 5, index), COUNTER32, (radio_bytes[radio][1] // 1100) % WRAP32),
                ((*e, 6, index), INTEGER, min(100, self_rx + self_tx + other)),
                ((*e, 7, index), INTEGER, self_rx),
                ((*e, 8, index), INTEGER, self_tx),
                ((*e, 9, index), INTEGER, other),
            ]
        return entries, summary


class AirmaxProfile:
    vendor: str = "airmax"
    fault_table: Oid = (*AIRMAX, 7, 1)

    def __init__(self, identity: Identity) -> None:
        self.identity = identity
        seed = identity.seed
        self.pool = ClientPool(seed, "ath0", 20 + int(unit(seed, "stations") * 12), 0.85)
        mb = 1_000_000.0
        self.ifaces = [
            Iface(1, "lo", 24, 0, b"", 0.0, 0.0),
            Iface(2, "eth0", IF_TYPE_ETHERNET, 1_000_000_000, mac_of(seed, "eth0"), 1.4 * mb, 6.5 * mb),
            Iface(5, "wifi0", IF_TYPE_WIFI, 0, mac_of(seed, "wifi0"), 0.0, 0.0),
            Iface(10, "ath0", IF_TYPE_WIFI, 866_000_000, mac_of(seed, "ath0"), 6.4 * mb, 1.35 * mb),
            Iface(11, "br0", IF_TYPE_BRIDGE, 0, mac_of(seed, "br0"), 1.4 * mb, 6.5 * mb),
        ]

    def build(self, moment: Moment) -> tuple[list[Entry], ApSummary]:
        ident = self.identity
        seed, t = moment.seed, moment.time_s
        sessions = self.pool.sessions(t, moment.boot_s)
        summary = ApSummary(clients_per_radio={"ath0": len(sessions)})
        summary.iface_octets = {iface.name: iface.octets(moment) for iface in self.ifaces}
        entries: list[Entry] = list(
            system_group(
                "Linux 2.6.32.68 #1 Fri Dec 16 15:44:21 EET 2016 mips",
                FROGFOOT,
                ident.name,
                ident.location,
                moment,
            )
        )
        entries += if_mib(self.ifaces, moment)
        entries += snmp_engine_group(ident.engine_id, moment)
        entries += [
            ((*DOT11_PRODUCT, 3, 10), OCTET_STRING, b"Rocket Prism 5AC Gen2"),
            ((*DOT11_PRODUCT, 4, 10), OCTET_STRING, b"XC.qca955x.v8.7.11.46972.220614.0419"),
        ]
        noise = round(-103 + drift(seed, "noise", t, 3.0))
        signals = []
        for session in sessions:
            key = f"sta/{session.slot}"
            signal = round(-58 - 20 * unit(seed, key, int(session.start_s)) + drift(seed, key, t, 4.0, 600.0))
            signals.append(signal)
            ccq = max(0, min(100, round(92 + drift(seed, f"{key}/ccq", t, 7.0))))
            down = traffic_bytes(_CLIENT_PEAK_BYTES_PER_S * 4, session.start_s, t)
            index = (1, *session.mac)
            e = (*AIRMAX, 7, 1)
            entries += [
                ((*e, 2, *index), OCTET_STRING, f"cpe-{session.slot:02d}".encode()),
                ((*e, 3, *index), INTEGER, signal),
                ((*e, 4, *index), INTEGER, noise),
                ((*e, 5, *index), INTEGER, 300 + 150 * session.slot),
                ((*e, 6, *index), INTEGER, ccq),
                ((*e, 10, *index), IP_ADDRESS, bytes((10, 20, 30, 10 + session.slot))),
                ((*e, 11, *index), INTEGER, 240_000 + 2000 * (signal + 80)),
                ((*e, 12, *index), INTEGER, 180_000 + 1500 * (signal + 80)),
                ((*e, 13, *index), COUNTER64, down),
                ((*e, 14, *index), COUNTER64, down // 4),
                ((*e, 15, *index), TIMETICKS, int((t - session.start_s) * 100)),
            ]
        avg_signal = round(sum(signals) / len(signals)) if signals else 0
        ccq = round(90 + drift(seed, "ccq", t, 6.0)) if sessions else 0
        w, r, a = (*AIRMAX, 5, 1), (*AIRMAX, 1, 1), (*AIRMAX, 6, 1)
        entries += [
            ((*r, 2, 1), INTEGER, 2),
            ((*r, 3, 1), INTEGER, 360),
            ((*r, 4, 1), INTEGER, 5745),
            ((*r, 5, 1), INTEGER, 2),
            ((*r, 6, 1), INTEGER, 27),
            ((*r, 7, 1), INTEGER, 14400),
            ((*r, 8, 1), INTEGER, 3),
            ((*r, 9, 1), OCTET_STRING, b"Built in - 23 dBi"),
            ((*AIRMAX, 2, 1, 2, 1, 1), INTEGER, avg_signal + 96 if signals else 0),
            ((*AIRMAX, 2, 1, 2, 1, 2), INTEGER, avg_signal + 98 if signals else 0),
            ((*w, 2, 1), OCTET_STRING, b"CirebonKota-Backhaul"),
            ((*w, 3, 1), INTEGER, 2),
            ((*w, 4, 1), OCTET_STRING, mac_of(seed, "ath0")),
            ((*w, 5, 1), INTEGER, avg_signal),
            ((*w, 6, 1), INTEGER, avg_signal + 96 if signals else 0),
            ((*w, 7, 1), INTEGER, ccq),
            ((*w, 8, 1), INTEGER, noise),
            ((*w, 9, 1), INTEGER, 59_999_000 if sessions else 0),
            ((*w, 10, 1), INTEGER, 37_338_600 if sessions else 0),
            ((*w, 11, 1), OCTET_STRING, b"WPA2"),
            ((*w, 12, 1), INTEGER, 1),
            ((*w, 13, 1), INTEGER, 2),
            ((*w, 14, 1), INTEGER, 40),
            ((*w, 15, 1), GAUGE32, len(sessions)),
            ((*a, 2, 1), INTEGER, 1),
            (
                (*a, 3, 1),
                INTEGER,
                max(0, min(100, round(55 - 20 * moment.intensity + drift(seed, "amq", t, 5.0)))),
            ),
            ((*a, 4, 1), INTEGER, max(0, min(100, round(50 + drift(seed, "amc", t, 5.0))))),
            ((*AIRMAX, 8, 3, 0), INTEGER, 400),
            ((*AIRMAX, 8, 4, 0), INTEGER, cpu_load_pct(moment, "cpu1", 10.0, 70.0)),
            ((*AIRMAX, 9, 2, 0), INTEGER, 0),
        ]
        summary.cpu_pct = cpu_load_pct(moment, "cpu1", 10.0, 70.0)
        return entries, summary
