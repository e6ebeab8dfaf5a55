"""The gateway's inventory in its retained status (`edge/{id}/status`), for the NOC's fleet view.

Everything the NOC needs to tell a healthy gateway from a sick one without a site visit: what runs
(version, config hash and version, uptime), what it watches (devices by kind and state), what it holds
back (buffer depth and oldest reading) and how its SD card fares (free space, write rate). The status is
published again every `INVENTORY_INTERVAL_S` so the retained copy is never older than that while the
gateway is online; docs/fleet.md lists the fields.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
from collections import Counter
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from edge_gateway.agent.remote_config import config_hash

if TYPE_CHECKING:
    from edge_gateway.agent.agent import Agent

INVENTORY_INTERVAL_S = 60.0


def software_version() -> str:
    try:
        return version("edge-gateway")
    except PackageNotFoundError:
        return "unknown"


def _write_bytes() -> int:
    """Bytes this process caused to be written to storage (/proc/self/io): the SD-card wear figure."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/io").read_text().splitlines():
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    return 0


class Inventory:
    """Builds the inventory part of the status; the write rate is measured between two builds."""

    def __init__(self, agent: Agent, config_path: Path) -> None:
        self.agent = agent
        self.started_monotonic_s = time.monotonic()
        self.installed_hash = config_hash(config_path.read_text())
        self._last_write = (time.monotonic(), _write_bytes())

    def devices(self) -> dict[str, dict[str, int]]:
        """Devices by kind and state (`up`, `down`, `unknown` before their first poll)."""
        counts: dict[str, Counter[str]] = {}
        seen = self.agent.board.devices
        config = self.agent.config
        kinds = {device.name: "snmp" for device in config.snmp.devices}
        kinds |= {device.name: "camera" for device in config.camera.devices}
        kinds |= {sensor.name: sensor.driver for bus in config.serial.buses for sensor in bus.sensors}
        for name, kind in kinds.items():
            state = seen.get(name)
            word = "unknown" if state is None or not state.last_poll_ns else "up" if state.up else "down"
            counts.setdefault(kind, Counter())[word] += 1
        return {kind: dict(counter) for kind, counter in sorted(counts.items())}

    def status(self) -> dict[str, object]:
        now_s, written = time.monotonic(), _write_bytes()
        then_s, before = self._last_write
        rate = (written - before) / (now_s - then_s) if now_s > then_s else 0.0
        self._last_write = (now_s, written)
        stats = self.agent.buffer.stats()
        oldest_s = (time.time_ns() - stats.oldest_time_ns) / 1e9 if stats.oldest_time_ns else 0.0
        found: dict[str, object] = {
            "version": software_version(),
            "uptime_s": round(now_s - self.started_monotonic_s, 1),
            "config_version": 0,
            "config_hash": self.installed_hash,
            "devices": self.devices(),
            "buffer_readings": stats.readings,
            "buffer_oldest_s": round(max(oldest_s, 0.0), 1),
            "disk_free_bytes": shutil.disk_usage(self.agent.config.buffer.path.parent).free,
            "write_bytes_per_s": round(max(rate, 0.0), 1),
        }
        if self.agent.remote is not None:
            found |= self.agent.remote.status()
        return found

    async def refresh(self) -> None:
        """Keep the retained status fresh: publish it again every INVENTORY_INTERVAL_S."""
        while True:
            await asyncio.sleep(INVENTORY_INTERVAL_S)
            self.agent.uplink.refresh_status()
