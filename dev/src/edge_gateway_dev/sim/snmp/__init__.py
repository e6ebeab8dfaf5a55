"""Simulated hotspot access points that answer real SNMP (v2c, v3 USM) over UDP on loopback.

Profiles: MikroTik RouterOS, UniFi, airMAX and a generic net-snmp AP, modelled on recorded walks;
values follow a deterministic daily curve; faults are switchable per AP at runtime. See
docs/simulator-aps.md.
"""

from edge_gateway_dev.sim.snmp.fleet import ApHandle, make_fleet_specs, run_fleet, run_forever, start_fleet
from edge_gateway_dev.sim.snmp.model import ApModel, ApTruth
from edge_gateway_dev.sim.snmp.spec import AgentStats, ApSpec, Faults, FaultSpecError, parse_faults
from edge_gateway_dev.sim.snmp.usm import V3User

__all__ = [
    "AgentStats",
    "ApHandle",
    "ApModel",
    "ApSpec",
    "ApTruth",
    "FaultSpecError",
    "Faults",
    "V3User",
    "make_fleet_specs",
    "parse_faults",
    "run_fleet",
    "run_forever",
    "start_fleet",
]
