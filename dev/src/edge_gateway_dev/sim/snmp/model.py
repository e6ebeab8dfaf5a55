"""One AP's state over time: its boot, its reboots, and the MIB it serves at any second."""

from __future__ import annotations

import math
from dataclasses import dataclass

from edge_gateway_dev.sim.clock import Clock
from edge_gateway_dev.sim.snmp.dynamics import unit
from edge_gateway_dev.sim.snmp.mib_common import Moment
from edge_gateway_dev.sim.snmp.profile_base import ApSummary, Identity
from edge_gateway_dev.sim.snmp.profiles import PROFILES, engine_id_for
from edge_gateway_dev.sim.snmp.spec import ApSpec
from edge_gateway_dev.sim.snmp.view import MibView


@dataclass(frozen=True, slots=True)
class ApTruth:
    """What the AP served at one second: every OID with its type and value, and what they mean."""

    name: str
    vendor: str
    time_s: int
    uptime_s: int
    engine_boots: int
    summary: ApSummary
    values: dict[str, tuple[str, object]]


class ApModel:
    """Builds views lazily, one per second, so an idle AP costs nothing and a walk costs one build."""

    def __init__(self, spec: ApSpec, clock: Clock) -> None:
        if spec.vendor not in PROFILES:
            raise ValueError(f"unknown vendor {spec.vendor!r}; known: {', '.join(PROFILES)}")
        self.spec = spec
        self.clock = clock
        self.engine_id = engine_id_for(spec.vendor, spec.name)
        self.identity = Identity(spec.name, spec.location or spec.name, spec.seed, self.engine_id)
        self.profile = PROFILES[spec.vendor](self.identity)
        uptime_s = 3600 + unit(spec.seed, "initial-uptime") * 20 * 86400
        self.boot_s = math.floor(clock() - uptime_s)
        self.engine_boots = 1 + int(unit(spec.seed, "boots") * 30)
        self._second = -1
        self._snapshot: tuple[MibView, ApSummary] | None = None

    def reboot(self, at_s: float | None = None) -> None:
        """Power-cycle: uptime, counters and client sessions restart; snmpEngineBoots goes up by one."""
        self.boot_s = math.floor(self.clock() if at_s is None else at_s)
        self.engine_boots += 1
        self._snapshot = None

    def engine_time_s(self, time_s: float) -> int:
        return max(0, int(time_s - self.boot_s))

    def snapshot(self, time_s: float) -> tuple[MibView, ApSummary]:
        second = math.floor(time_s)
        if self._snapshot is None or second != self._second:
            moment = Moment(self.spec.seed, float(max(second, self.boot_s)), self.boot_s, self.engine_boots)
            entries, summary = self.profile.build(moment)
            self._snapshot = (MibView(entries), summary)
            self._second = second
        return self._snapshot

    def view(self, time_s: float) -> MibView:
        return self.snapshot(time_s)[0]

    def truth(self, time_s: float | None = None) -> ApTruth:
        at_s = self.clock() if time_s is None else time_s
        view, summary = self.snapshot(at_s)
        return ApTruth(
            self.spec.name,
            self.spec.vendor,
            math.floor(at_s),
            self.engine_time_s(math.floor(at_s)),
            self.engine_boots,
            summary,
            view.as_dict(),
        )
