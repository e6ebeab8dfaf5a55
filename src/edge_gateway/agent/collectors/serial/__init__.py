"""Serial collectors: one owner task per serial port, polling or reading its sensors through drivers.

The agent builds the owners from its `[serial]` section with `build_buses(section, gateway_site)`
and runs each `owner.run(sink, health)` in its own task named `owner.name` (`serial[int01-rs485]`);
see docs/serial.md.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Protocol

from edge_gateway.agent.collectors.serial.bus import PolledBus
from edge_gateway.agent.collectors.serial.config import SerialBus, SerialSection, SerialSensor
from edge_gateway.agent.collectors.serial.port import Port, PortSettings, SerialPort
from edge_gateway.agent.collectors.serial.sensor import SensorState
from edge_gateway.agent.collectors.serial.stream import StreamingBus
from edge_gateway.agent.scheduler import SourceHealth
from edge_gateway.core.model import Reading

__all__ = ["BusOwner", "SerialBus", "SerialSection", "SerialSensor", "build_bus", "build_buses"]


class BusOwner(Protocol):
    name: str

    async def run(self, sink: Callable[[Sequence[Reading]], Awaitable[None]], health: SourceHealth) -> None:
        """Own the port and report its sensors until cancelled."""
        ...


def port_settings(bus: SerialBus) -> PortSettings:
    return PortSettings(bus.port, bus.baud, bus.bytesize, bus.parity, bus.stopbits)


def build_bus(bus: SerialBus, gateway_site: str, open_port: Callable[[], Port] | None = None) -> BusOwner:
    """The owner of one bus; `open_port` replaces the real port (tests pass a fake)."""
    site = bus.site or gateway_site
    opener = open_port or partial(SerialPort.open, port_settings(bus))
    sensors = [
        SensorState(sensor, bus.name, sensor.site or site, bus.position_of(sensor)) for sensor in bus.sensors
    ]
    if bus.streaming:
        return StreamingBus(bus, sensors[0], opener, site)
    return PolledBus(bus, sensors, opener, site)


def build_buses(section: SerialSection, gateway_site: str) -> list[BusOwner]:
    """One owner per configured bus, each the only user of its port."""
    return [build_bus(bus, gateway_site) for bus in section.buses]
