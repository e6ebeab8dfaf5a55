"""The gateway agent: collectors -> buffer -> uplink, in one event loop, until SIGTERM or SIGINT.

Inputs and outputs never see each other: collectors hand readings to the sink, which stamps the
gateway id, encodes them and stores them in one buffer transaction per cycle; the uplink only knows
the buffer. The agent reports its own health as `gateway` readings through the same path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import shutil
import signal
import time
from collections.abc import Coroutine, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from edge_gateway.agent.buffer import Buffer, DiskFull
from edge_gateway.agent.buffer_schema import entries_of
from edge_gateway.agent.collectors import camera, serial, snmp
from edge_gateway.agent.config import AgentConfig
from edge_gateway.agent.config_child import CheckedConfig, check_in_child
from edge_gateway.agent.inventory import Inventory
from edge_gateway.agent.remote_apply import RemoteControl, startup_config
from edge_gateway.agent.remote_probe import ProbeDesk
from edge_gateway.agent.scheduler import Accumulator, SourceHealth, run_periodic
from edge_gateway.agent.status import Board, StatusServer, addresses_of
from edge_gateway.agent.status_maintenance import MaintenanceWatch
from edge_gateway.agent.uplink import Uplink
from edge_gateway.core import schema
from edge_gateway.core.config import ConfigError
from edge_gateway.core.model import Reading

log = logging.getLogger(__name__)

HEALTH_INTERVAL_S = 10.0


def _proc_io_write_bytes() -> int:
    """Bytes this process caused to be written to storage: the SD-card wear figure."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/io").read_text().splitlines():
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    return 0


class GatewayHealth:
    """The agent's own health, as a `gateway` reading every HEALTH_INTERVAL_S."""

    name = "gateway"
    interval_s = HEALTH_INTERVAL_S

    def __init__(self, buffer: Buffer, uplink: Uplink, buffer_dir: Path) -> None:
        self.buffer, self.uplink, self.buffer_dir = buffer, uplink, buffer_dir

    async def collect(self, acc: Accumulator) -> None:
        stats = self.buffer.stats()
        now_ns = time.time_ns()
        oldest_s = (now_ns - stats.oldest_time_ns) / 1e9 if stats.oldest_time_ns else 0.0
        fields: dict[str, float | int | bool] = {
            "buffer_readings": stats.readings,
            "buffer_bytes": stats.bytes,
            "oldest_s": round(max(oldest_s, 0.0), 3),
            "dropped": stats.dropped,
            "uplink_up": self.uplink.stats.connected,
            "published": self.uplink.stats.published_readings,
            "refused_batches": self.uplink.stats.refused_batches,
            "undelivered_batches": self.uplink.stats.undelivered_batches,
            "rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "disk_free_bytes": shutil.disk_usage(self.buffer_dir).free,
            "write_bytes": _proc_io_write_bytes(),
        }
        acc.add(Reading(schema.GATEWAY, {}, fields, now_ns))


class Agent:
    def __init__(self, config: AgentConfig, profiles: dict[str, Any] | None = None) -> None:
        self.config = config
        self.profiles = profiles  # None: loaded (and checked) where the SNMP collectors are built
        # One config check and apply at a time (SIGHUP reloads, remote configs, rollbacks): a file
        # checked earlier is never applied after one checked later.
        self.config_lock = asyncio.Lock()
        conf = config.buffer
        self.buffer = Buffer(
            conf.path, conf.max_bytes, conf.on_full, conf.synchronous, conf.live_first_after_s
        )
        self.wakeup = asyncio.Event()
        self.uplink = Uplink(config.uplink, config.gateway.id, self.buffer, self.wakeup)
        self.health = SourceHealth()
        self.board = Board()
        self.board.addresses = addresses_of(config)
        self._tags = {"gateway": config.gateway.id}
        self._inputs: dict[str, tuple[object, asyncio.Task[None]]] = {}
        self._tasks: asyncio.TaskGroup | None = None  # set while running
        self._dropping = 0  # readings dropped in the current full-buffer episode
        self.remote: RemoteControl | None = None  # set by run_until_signalled when enabled
        self.inventory: Inventory | None = None  # set by run_until_signalled: the status's inventory

    async def sink(self, readings: Sequence[Reading]) -> None:
        """Store one cycle's readings in one transaction, stamped with this gateway's id.

        With `on_full = "block"` a full buffer (or a full disk) makes the collectors wait here, before
        storing, until the broker has acknowledged enough to make room: polls are delayed, nothing is
        dropped. A full disk never raises out of here: the buffer drops by its policy and counts.
        """
        if not self.buffer.has_room() and self.buffer.on_full == "block":
            log.warning("buffer full (%d bytes): collection waits for the uplink", self.buffer.limit_bytes)
            while not self.buffer.has_room():
                await self._acknowledged()
            log.info("buffer has room again: collection resumes")
        self.board.record(readings)
        entries = entries_of(reading.with_tags(self._tags) for reading in readings)
        while True:
            try:
                dropped = self.buffer.put(entries)
                break
            except DiskFull:  # with `block` only: wait for the uplink to free pages
                await self._acknowledged()
        self._count_drops(dropped)
        self.wakeup.set()

    async def _acknowledged(self) -> None:
        self.uplink.acked.clear()
        await self.uplink.acked.wait()

    def _count_drops(self, dropped: int) -> None:
        """Log a full buffer once when it starts dropping and once when it stops, not every write."""
        if dropped and not self._dropping:
            disk = " (all its disk holds)" if self.buffer.limit_bytes < self.buffer.max_bytes else ""
            log.warning(
                "buffer full at %d bytes%s: dropping readings by policy %s; counted in gateway.dropped",
                self.buffer.limit_bytes,
                disk,
                self.buffer.on_full,
            )
        elif not dropped and self._dropping:
            log.info("buffer has room again: %d readings were dropped", self._dropping)
        self._dropping = self._dropping + dropped if dropped else 0

    async def run(self) -> None:
        health = GatewayHealth(self.buffer, self.uplink, self.config.buffer.path.parent)
        buses = self.config.serial.buses
        log.info(
            "agent %s starting: %d SNMP devices, %d serial buses with %d sensors",
            self.config.gateway.id,
            len(self.config.snmp.devices),
            len(buses),
            sum(len(bus.sensors) for bus in buses),
        )
        try:
            async with asyncio.TaskGroup() as tasks:
                self._tasks = tasks
                tasks.create_task(self.uplink.run(), name="uplink")
                if self.config.status.enabled:
                    watch = None
                    if self.config.status.alertmanager_url:
                        watch = MaintenanceWatch(self.config.status.alertmanager_url)
                        tasks.create_task(watch.run(), name="maintenance-watch")
                    status = StatusServer(
                        self.config.status,
                        self.config.gateway.id,
                        self.board,
                        self.buffer,
                        self.uplink.stats,
                        watch,
                    )
                    tasks.create_task(status.serve(), name="status")
                tasks.create_task(run_periodic(health, self.sink, self.health), name=health.name)
                if self.remote is not None:
                    tasks.create_task(self.remote.watch_uplink(), name="remote-config-watch")
                if self.inventory is not None:
                    tasks.create_task(self.inventory.refresh(), name="inventory")
                self._start_inputs(self.config, self.config)
        finally:
            self.buffer.close()

    def _start_inputs(self, old: AgentConfig, new: AgentConfig) -> None:
        """Stop the collectors whose device is gone or changed, start those that are new or changed."""
        assert self._tasks is not None, "inputs start inside run()"
        specs: dict[str, object] = {f"snmp[{device.name}]": device for device in new.snmp.devices}
        specs |= {f"serial[{bus.name}]": (bus, new.gateway.site) for bus in new.serial.buses}
        cameras = new.camera
        specs |= {
            f"camera[{cam.name}]": (cam, new.gateway.site, cameras.down_backoff_max_s)
            for cam in cameras.devices
        }
        snmp_section = (
            replace(old.snmp, devices=[]),
            replace(new.snmp, devices=[]),
        )
        for name, (spec, task) in list(self._inputs.items()):
            if specs.get(name) != spec or (name.startswith("snmp[") and snmp_section[0] != snmp_section[1]):
                task.cancel()
                del self._inputs[name]
        starts: list[tuple[str, Coroutine[Any, Any, None]]] = [
            (collector.name, run_periodic(collector, self.sink, self.health))
            for collector in [*snmp.build_collectors(new, self.profiles), *camera.build_collectors(new)]
            if collector.name not in self._inputs
        ]
        starts += [
            (owner.name, owner.run(self.sink, self.health))
            for owner in serial.build_buses(new.serial, new.gateway.site)
            if owner.name not in self._inputs
        ]
        for name, work in starts:
            self._inputs[name] = (specs[name], self._tasks.create_task(work, name=name))

    def reload(self, path: Path) -> None:
        """Apply a changed device list without touching the buffer or the MQTT session (SIGHUP). The
        file is checked by a child process (config_child.py) while the agent runs on."""
        if self._tasks is None:
            log.warning("reload ignored: the agent is not running yet")
            return
        self._tasks.create_task(self._reload(path), name="reload")

    async def _reload(self, path: Path) -> None:
        async with self.config_lock:
            try:
                # a bad vendor profile is refused like a bad key
                checked = await asyncio.to_thread(check_in_child, path)
            except ConfigError as exc:
                log.error("reload of %s refused, the running config stays: %s", path, "; ".join(exc.problems))
                return
            self.apply(checked.config, checked.profiles)
        log.info("reloaded %s", path)

    def apply(self, new: AgentConfig, profiles: dict[str, Any] | None = None) -> None:
        """Take a validated config's devices; sections read only at start keep their running values.
        `profiles`: the vendor profiles checked with it (None: loaded and checked here)."""
        assert self._tasks is not None, "apply runs inside run()"
        self.profiles = profiles
        fixed = ("gateway", "uplink", "buffer", "status", "remote_config")
        changed = [section for section in fixed if getattr(new, section) != getattr(self.config, section)]
        if changed:
            log.warning("reload: changes to [%s] take effect at the next restart", "], [".join(changed))
        new = replace(new, **{section: getattr(self.config, section) for section in fixed})
        self._start_inputs(self.config, new)
        removed = removed_devices(self.config, new, time.time_ns())
        if removed:  # the NOC forgets them: their alerts resolve, they leave the page and the boards
            self._tasks.create_task(self.sink(removed), name="removed-devices")
        self.config = new
        self.board.addresses = addresses_of(new)
        log.info(
            "config applied: %d SNMP devices, %d serial buses",
            len(new.snmp.devices),
            len(new.serial.buses),
        )


def removed_devices(old: AgentConfig, new: AgentConfig, time_ns: int) -> list[Reading]:
    """A `device_status` with `removed=true` for each device or sensor a reload dropped, sent like any
    reading (in order, through the buffer): the bridge resolves its alerts, the page forgets it."""

    def kinds(config: AgentConfig) -> dict[str, str]:
        found = {device.name: "snmp" for device in config.snmp.devices}
        found |= {device.name: "camera" for device in config.camera.devices}
        return found | {sensor.name: sensor.driver for bus in config.serial.buses for sensor in bus.sensors}

    after = kinds(new)
    return [
        Reading(schema.DEVICE_STATUS, {"device": name, "kind": kind}, {"removed": True}, time_ns)
        for name, kind in sorted(kinds(old).items())
        if name not in after
    ]


async def run_until_signalled(checked: CheckedConfig, path: Path) -> None:
    """Run the agent; SIGTERM and SIGINT stop it cleanly (`stopped` status sent, buffer closed), SIGHUP
    reloads the device list from `path`."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    checked, from_active = startup_config(checked)
    config = checked.config
    agent = Agent(config, checked.profiles)
    agent.inventory = Inventory(agent, path)
    agent.uplink.status_extra = agent.inventory.status
    if config.remote_config.enabled:
        agent.remote = RemoteControl(agent, path, from_active, task.cancel)
        agent.uplink.on_config = agent.remote.on_message
        agent.uplink.on_probe = ProbeDesk(agent, agent.remote.key_file).answer
    loop.add_signal_handler(signal.SIGHUP, agent.reload, path)
    with contextlib.suppress(asyncio.CancelledError):
        await agent.run()
    log.info("agent stopped")
