"""A Hikvision IP camera's SNMP agent, from HIK-DEVICE-MIB (enterprise 39165, devicemib …39165.1).

The MIB types its health objects as text (OCTET STRING holding a number): cpuPercent (.7), diskSize
(.8), diskPercent (.9), memSize (.10), memUsed (.11), and the model as deviceType (.1), maker as
manufacturer (.6). Beside them the camera answers MIB-II and IF-MIB for its one wired port; its
sysObjectID is taken under the enterprise (devicemib.1 here). The camera sends its stream upstream,
so its port's traffic is mostly out.
"""

from __future__ import annotations

from edge_gateway_dev.sim.snmp.ber import OCTET_STRING, Oid
from edge_gateway_dev.sim.snmp.dynamics import drift
from edge_gateway_dev.sim.snmp.mib_common import (
    IF_TABLE_ENTRY,
    IF_TYPE_ETHERNET,
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

DEVICE_MIB = (1, 3, 6, 1, 4, 1, 39165, 1)
OBJECT_ID = (*DEVICE_MIB, 1)
MODEL = "DS-2CD2T47G2-L"
MEMORY_KB = 262_144
DISK_MB = 64_000  # an SD card for local recording


class HikvisionProfile:
    vendor: str = "hikvision"
    fault_table: Oid = IF_TABLE_ENTRY

    def __init__(self, identity: Identity) -> None:
        self.identity = identity
        mb = 1_000_000.0
        self.ifaces = [
            Iface(1, "lo", 24, 10_000_000, b"", 0.001 * mb, 0.001 * mb),
            Iface(2, "eth0", IF_TYPE_ETHERNET, 100_000_000, mac_of(identity.seed, "eth0"), 0.02 * mb, mb / 2),
        ]

    def build(self, moment: Moment) -> tuple[list[Entry], ApSummary]:
        ident = self.identity
        entries: list[Entry] = list(
            system_group(f"Hikvision IP camera {MODEL}", OBJECT_ID, ident.name, ident.location, moment)
        )
        entries += if_mib(self.ifaces, moment)
        entries += snmp_engine_group(ident.engine_id, moment)
        cpu_pct = cpu_load_pct(moment, "cpu", 18.0, 45.0)  # encoding costs the same day and night
        mem_used_kb = int(MEMORY_KB * (0.55 + drift(moment.seed, "mem", moment.time_s, 0.05)))
        disk_pct = 40 + int(moment.time_s // 86_400) % 50  # recording fills the card, overwriting the oldest
        texts = {
            1: MODEL,
            6: "hikvision",
            7: str(cpu_pct),
            8: f"{DISK_MB} MB",
            9: str(disk_pct),
            10: str(MEMORY_KB),
            11: str(mem_used_kb),
        }
        entries += [((*DEVICE_MIB, column, 0), OCTET_STRING, text.encode()) for column, text in texts.items()]
        summary = ApSummary(
            iface_octets={iface.name: iface.octets(moment) for iface in self.ifaces}, cpu_pct=cpu_pct
        )
        return entries, summary
