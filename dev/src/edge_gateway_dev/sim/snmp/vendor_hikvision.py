"""A Hikvision IP camera's SNMP agent, from HIK-DEVICE-MIB (enterprise 39165, devicemib …39165.1).

The MIB types its health objects as text (OCTET STRING): a number and a unit, in the form a recorded
camera answers them (LibreNMS hikvision-cam.snmprec): cpuPercent (.7, "15 PERCENT"), diskSize (.8,
"0.0 GB"), diskPercent (.9, "0 PERCENT"), memSize (.10, "512 MB"), memUsed (.11, "83 PERCENT", a
percentage), the model as deviceType (.1), maker as manufacturer (.6, "Hikvision"). Beside them the
camera answers MIB-II and IF-MIB for its one wired port. Its sysObjectID is 1.3.6.1.4.1.50001, what a
recorded Hikvision recorder answers (LibreNMS hikvision.snmprec), not under the MIB's own enterprise
39165. The camera sends its stream upstream, so its port's traffic is mostly out.
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
OBJECT_ID = (1, 3, 6, 1, 4, 1, 50001)
MODEL = "DS-2CD2T47G2-L"
MEMORY_MB = 256
DISK_GB = 59.6  # a 64 GB SD card for local recording


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
        mem_pct = round(100 * (0.55 + drift(moment.seed, "mem", moment.time_s, 0.05)))
        disk_pct = 40 + int(moment.time_s // 86_400) % 50  # recording fills the card, overwriting the oldest
        texts = {
            1: MODEL,
            6: "Hikvision",
            7: f"{cpu_pct} PERCENT",
            8: f"{DISK_GB:.1f} GB",
            9: f"{disk_pct} PERCENT",
            10: f"{MEMORY_MB} MB",
            11: f"{mem_pct} PERCENT",
        }
        entries += [((*DEVICE_MIB, column, 0), OCTET_STRING, text.encode()) for column, text in texts.items()]
        summary = ApSummary(
            iface_octets={iface.name: iface.octets(moment) for iface in self.ifaces}, cpu_pct=cpu_pct
        )
        return entries, summary
