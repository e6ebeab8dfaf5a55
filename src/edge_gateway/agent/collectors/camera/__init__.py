"""Camera health collectors: one per `[[camera.devices]]` table, run by the agent like SNMP pollers.

See docs/cameras.md for what is measured and how, and docs/schema.md for the `camera` measurement.
The collector (aiohttp, RTSP, ONVIF's XML) is imported only by an agent that has cameras: the agent's
config imports this package for its section.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from edge_gateway.agent.collectors.camera.config import CameraDevice, CameraSection

if TYPE_CHECKING:
    from edge_gateway.agent.collectors.camera.collector import CameraCollector
    from edge_gateway.agent.config import AgentConfig

__all__ = ["CameraDevice", "CameraSection", "build_collectors"]


def build_collectors(config: AgentConfig) -> list[CameraCollector]:
    section = config.camera
    if not section.devices:
        return []
    from edge_gateway.agent.collectors.camera.collector import CameraCollector

    return [
        CameraCollector(device, config.gateway.site, section.down_backoff_max_s) for device in section.devices
    ]
