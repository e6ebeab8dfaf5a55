"""Simulated intersection sensor firmware speaking real bytes over pseudo-terminals.

One intersection is three ptys: an RS-485 bus with four Modbus RTU slaves, a GPS NMEA talker and a
radar vehicle counter, as fixed in docs/sensor-protocols.md; docs/simulator-sensors.md tells how to
run them, switch faults and read the ground truth.
"""

from edge_gateway_dev.sim.serial.daily import DailyModel, local_hour, traffic_intensity
from edge_gateway_dev.sim.serial.faults import PortFaults
from edge_gateway_dev.sim.serial.fleet import (
    PORTS,
    IntersectionHandle,
    IntersectionSpec,
    make_intersection_specs,
    run_intersections,
)
from edge_gateway_dev.sim.serial.truth import GpsFix, GroundTruth, PortStats, RadarLane, RadarReport, signed16

__all__ = [
    "PORTS",
    "DailyModel",
    "GpsFix",
    "GroundTruth",
    "IntersectionHandle",
    "IntersectionSpec",
    "PortFaults",
    "PortStats",
    "RadarLane",
    "RadarReport",
    "local_hour",
    "make_intersection_specs",
    "run_intersections",
    "signed16",
    "traffic_intensity",
]
