"""Standard MIB groups that several vendors share: SNMPv2-MIB system, IF-MIB, HOST-RESOURCES, SNMP engine.

Shapes follow the recorded walks: ifTable and ifXTable indexed by ifIndex, 64-bit HC counters next to
their 32-bit twins (which wrap, being the same count modulo 2^32), hrStorage indexed 65536/131072 as
RouterOS does, hrProcessorTable indexed by hrDeviceIndex.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from edge_gateway_dev.sim.snmp.ber import (
    COUNTER32,
    COUNTER64,
    GAUGE32,
    INTEGER,
    OBJECT_ID,
    OCTET_STRING,
    TIMETICKS,
    Oid,
)
from edge_gateway_dev.sim.snmp.dynamics import drift, hotspot_intensity, local_hour, traffic_bytes
from edge_gateway_dev.sim.snmp.view import Entry

WRAP32 = 2**32
SYSTEM = (1, 3, 6, 1, 2, 1, 1)
IF_TABLE_ENTRY = (1, 3, 6, 1, 2, 1, 2, 2, 1)
IFX_TABLE_ENTRY = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1)
HR = (1, 3, 6, 1, 2, 1, 25)
SNMP_ENGINE = (1, 3, 6, 1, 6, 3, 10, 2, 1)
IF_TYPE_ETHERNET = 6
IF_TYPE_WIFI = 71
IF_TYPE_BRIDGE = 209
IF_TYPE_PPP = 23
_IN_PACKET_BYTES = 610
_OUT_PACKET_BYTES = 940


@dataclass(frozen=True, slots=True)
class Moment:
    """The instant a view is built for, and the AP state it depends on."""

    seed: int
    time_s: float
    boot_s: float
    engine_boots: int

    @property
    def uptime_ticks(self) -> int:
        return int((self.time_s - self.boot_s) * 100)

    @property
    def intensity(self) -> float:
        return hotspot_intensity(local_hour(self.time_s))


@dataclass(frozen=True, slots=True)
class Iface:
    """One interface; its traffic is the daily curve scaled to its peak rates in bytes/s."""

    index: int
    name: str
    if_type: int
    speed_bps: int
    mac: bytes
    peak_in_bytes_per_s: float = 0.0
    peak_out_bytes_per_s: float = 0.0
    up: bool = True

    def octets(self, moment: Moment) -> tuple[int, int]:
        """(in, out) octets since boot: the 64-bit counts; the 32-bit columns wrap them."""
        if not self.up:
            return 0, 0
        return (
            traffic_bytes(self.peak_in_bytes_per_s, moment.boot_s, moment.time_s),
            traffic_bytes(self.peak_out_bytes_per_s, moment.boot_s, moment.time_s),
        )


def system_group(descr: str, object_id: Oid, name: str, location: str, moment: Moment) -> Iterator[Entry]:
    yield (*SYSTEM, 1, 0), OCTET_STRING, descr.encode()
    yield (*SYSTEM, 2, 0), OBJECT_ID, object_id
    yield (*SYSTEM, 3, 0), TIMETICKS, moment.uptime_ticks % WRAP32
    yield (*SYSTEM, 4, 0), OCTET_STRING, b"noc@diskominfo.cirebonkota.go.id"
    yield (*SYSTEM, 5, 0), OCTET_STRING, name.encode()
    yield (*SYSTEM, 6, 0), OCTET_STRING, location.encode()


def if_mib(ifaces: list[Iface], moment: Moment) -> Iterator[Entry]:
    """ifNumber, ifTable and ifXTable for the interfaces, all counters consistent with one another."""
    yield (1, 3, 6, 1, 2, 1, 2, 1, 0), INTEGER, len(ifaces)
    for iface in ifaces:
        i = iface.index
        in_octets, out_octets = iface.octets(moment)
        in_pkts, out_pkts = in_octets // _IN_PACKET_BYTES, out_octets // _OUT_PACKET_BYTES
        in_errors = in_pkts // 90_000 if iface.if_type == IF_TYPE_WIFI else 0
        out_errors = out_pkts // 400_000 if iface.if_type == IF_TYPE_WIFI else 0
        in_bcast, out_bcast = in_pkts // 300, out_pkts // 900
        status = 1 if iface.up else 2
        t, x = IF_TABLE_ENTRY, IFX_TABLE_ENTRY
        yield (*t, 1, i), INTEGER, i
        yield (*t, 2, i), OCTET_STRING, iface.name.encode()
        yield (*t, 3, i), INTEGER, iface.if_type
        yield (*t, 4, i), INTEGER, 1480 if iface.if_type == IF_TYPE_PPP else 1500
        yield (*t, 5, i), GAUGE32, min(iface.speed_bps, WRAP32 - 1)
        yield (*t, 6, i), OCTET_STRING, iface.mac
        yield (*t, 7, i), INTEGER, 1
        yield (*t, 8, i), INTEGER, status
        yield (*t, 9, i), TIMETICKS, 0
        yield (*t, 10, i), COUNTER32, in_octets % WRAP32
        yield (*t, 11, i), COUNTER32, in_pkts % WRAP32
        yield (*t, 13, i), COUNTER32, 0
        yield (*t, 14, i), COUNTER32, in_errors % WRAP32
        yield (*t, 16, i), COUNTER32, out_octets % WRAP32
        yield (*t, 17, i), COUNTER32, out_pkts % WRAP32
        yield (*t, 19, i), COUNTER32, 0
        yield (*t, 20, i), COUNTER32, out_errors % WRAP32
        yield (*x, 1, i), OCTET_STRING, iface.name.encode()
        yield (*x, 2, i), COUNTER32, 0
        yield (*x, 3, i), COUNTER32, in_bcast % WRAP32
        yield (*x, 4, i), COUNTER32, 0
        yield (*x, 5, i), COUNTER32, out_bcast % WRAP32
        yield (*x, 6, i), COUNTER64, in_octets
        yield (*x, 7, i), COUNTER64, in_pkts - in_bcast
        yield (*x, 8, i), COUNTER64, 0
        yield (*x, 9, i), COUNTER64, in_bcast
        yield (*x, 10, i), COUNTER64, out_octets
        yield (*x, 11, i), COUNTER64, out_pkts - out_bcast
        yield (*x, 12, i), COUNTER64, 0
        yield (*x, 13, i), COUNTER64, out_bcast
        yield (*x, 15, i), GAUGE32, iface.speed_bps // 1_000_000
        yield (*x, 18, i), OCTET_STRING, b""


def cpu_load_pct(moment: Moment, key: str, idle_pct: float, busy_pct: float) -> int:
    load = idle_pct + (busy_pct - idle_pct) * moment.intensity + drift(moment.seed, key, moment.time_s, 4.0)
    return max(0, min(100, round(load)))


def host_resources(moment: Moment, n_cpus: int, memory_kb: int, disk_kb: int) -> Iterator[Entry]:
    """hrSystemUptime, hrStorage (RAM, disk), hrDevice and hrProcessorLoad per CPU."""
    yield (*HR, 1, 1, 0), TIMETICKS, (moment.uptime_ticks + 100) % WRAP32
    memory_used_share = 0.35 + 0.2 * moment.intensity + drift(moment.seed, "mem", moment.time_s, 0.03)
    storage = (
        (65536, (*HR, 2, 1, 2), b"main memory", memory_kb, int(memory_kb * memory_used_share)),
        (131072, (*HR, 2, 1, 4), b"system disk", disk_kb, int(disk_kb * 0.7)),
    )
    for index, kind, descr, size, used in storage:
        entry = (*HR, 2, 3, 1)
        yield (*entry, 1, index), INTEGER, index
        yield (*entry, 2, index), OBJECT_ID, kind
        yield (*entry, 3, index), OCTET_STRING, descr
        yield (*entry, 4, index), INTEGER, 1024
        yield (*entry, 5, index), INTEGER, size
        yield (*entry, 6, index), INTEGER, used
        yield (*entry, 7, index), COUNTER32, 0
    for cpu in range(1, n_cpus + 1):
        device = (*HR, 3, 2, 1)
        yield (*device, 1, cpu), INTEGER, cpu
        yield (*device, 2, cpu), OBJECT_ID, (*HR, 3, 1, 3)
        yield (*device, 3, cpu), OCTET_STRING, b""
        yield (*device, 4, cpu), OBJECT_ID, (0, 0)
        yield (*device, 5, cpu), INTEGER, 2
        yield (*device, 6, cpu), COUNTER32, 0
        yield (*HR, 3, 3, 1, 1, cpu), OBJECT_ID, (0, 0)
        yield (*HR, 3, 3, 1, 2, cpu), INTEGER, cpu_load_pct(moment, f"cpu{cpu}", 4.0, 38.0)


def snmp_engine_group(engine_id: bytes, moment: Moment) -> Iterator[Entry]:
    """SNMP-FRAMEWORK-MIB snmpEngine scalars, as net-snmp based firmware (UniFi, airOS) serves them."""
    yield (*SNMP_ENGINE, 1, 0), OCTET_STRING, engine_id
    yield (*SNMP_ENGINE, 2, 0), INTEGER, moment.engine_boots
    yield (*SNMP_ENGINE, 3, 0), INTEGER, int(moment.time_s - moment.boot_s)
    yield (*SNMP_ENGINE, 4, 0), INTEGER, 1500


def mac_of(seed: int, key: str) -> bytes:
    """A stable MAC for an AP's own interface (unicast, globally administered)."""
    digest = hashlib.blake2b(f"{seed}|mac|{key}".encode(), digest_size=6).digest()
    return bytes((digest[0] & 0xFC,)) + digest[1:]
