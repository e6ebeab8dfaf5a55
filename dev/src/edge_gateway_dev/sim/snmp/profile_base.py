"""What every vendor profile provides: its MIB entries at a moment, and a summary of them.

The summary is the ground truth a test compares with what reached InfluxDB: it is computed from the
same objects the entries are built from, in the same call, so the two cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from edge_gateway_dev.sim.snmp.ber import Oid
from edge_gateway_dev.sim.snmp.mib_common import Moment
from edge_gateway_dev.sim.snmp.view import Entry


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the AP is: fixed for its life."""

    name: str
    location: str
    seed: int
    engine_id: bytes


@dataclass(slots=True)
class ApSummary:
    """The meaning of a view: per radio clients, per interface octets (64-bit, since boot)."""

    clients_per_radio: dict[str, int] = field(default_factory=dict)
    iface_octets: dict[str, tuple[int, int]] = field(default_factory=dict)
    hotspot_users: int | None = None
    dhcp_leases: int | None = None
    cpu_pct: int | None = None
    temp_c: float | None = None

    @property
    def clients(self) -> int:
        return sum(self.clients_per_radio.values())


class Profile(Protocol):
    vendor: str
    # The table entry the truncate and non-increasing faults act on (the main per-client table).
    fault_table: Oid

    def build(self, moment: Moment) -> tuple[list[Entry], ApSummary]: ...
