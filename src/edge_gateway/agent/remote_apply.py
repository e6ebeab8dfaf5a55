"""Applying a remote config on the gateway, and taking it back by itself when it breaks things.

A config that changes only devices is applied like a SIGHUP reload: the buffer and the MQTT session stay.
If, in any complete poll round of the `rollback_after_s` window after it (remote_watch.py: every device
polled since the round began; a slow device is waited for), more devices are down than before, the last
good config returns the same way, at once. A config that changes a section read only at start
(`[uplink]`, `[buffer]`, ...) is saved as `remote-config/active.toml` and the agent exits cleanly for
systemd to restart it (Restart=always); the next start runs from it, and its poll rounds are judged the
same way (against the devices down before the restart); those, or a broker not reached within
`rollback_after_s`, make the agent drop it and exit again, back to the installed file. Every outcome is
kept in `remote-config/state.json` and published in the retained status (docs/fleet.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from edge_gateway.agent.config_child import CheckedConfig, check_in_child
from edge_gateway.agent.remote_config import (
    Accepted,
    Refused,
    RemoteState,
    config_hash,
    examine,
    restart_needed,
    write_atomically,
)
from edge_gateway.agent.remote_watch import RoundWatch, Verdict, device_intervals, down_now
from edge_gateway.core.config import ConfigError

if TYPE_CHECKING:
    from edge_gateway.agent.agent import Agent
    from edge_gateway.agent.config import AgentConfig

log = logging.getLogger(__name__)


def state_dir(config: AgentConfig) -> Path:
    return config.buffer.path.parent / "remote-config"


def startup_config(installed: CheckedConfig) -> tuple[CheckedConfig, bool]:
    """The config to start with: a remote one saved for a restart, when it still loads; else `installed`."""
    active = state_dir(installed.config) / "active.toml"
    if not installed.config.remote_config.enabled or not active.exists():
        return installed, False
    try:
        return check_in_child(active), True
    except (ConfigError, OSError, ValueError) as exc:
        log.error("remote config %s does not load, starting from the installed file: %s", active, exc)
        active.unlink(missing_ok=True)
        return installed, False


class Previous(NamedTuple):
    """The config that ran before a remote one was applied: what a rollback puts back, unchecked
    again (it ran), so a rollback cannot be refused or wait on a config check."""

    text: str
    version: int
    config: AgentConfig
    profiles: dict[str, Any] | None


class RemoteControl:
    """The gateway's end of remote configuration; one per agent.

    `outcome.json` keeps the last outcome, the version it was about and the version running now
    (0: the installed file), so the status says the same thing after a restart."""

    def __init__(self, agent: Agent, installed: Path, from_active: bool, stop: Callable[[], object]) -> None:
        section = agent.config.remote_config
        assert section.public_key_file is not None, "checked by the config"
        self.agent, self.section, self.stop = agent, section, stop
        self.key_file = section.public_key_file  # checked by check-config; read by the verifying child
        self.state = RemoteState.load(state_dir(agent.config))
        saved = self._saved()
        self.outcome = str(saved.get("outcome", "none"))
        self.outcome_version = saved.get("outcome_version")
        self.running_version = int(saved.get("running_version", 0)) if from_active else 0
        self.down_before = int(saved.get("down_before", 0))  # devices down when a restart was applied
        self.running_text = (self.active if from_active else installed).read_text()
        self.from_active = from_active
        self._watch: asyncio.Task[Any] | None = None

    @property
    def active(self) -> Path:
        return self.state.folder / "active.toml"

    def _saved(self) -> dict[str, Any]:
        try:
            saved = json.loads((self.state.folder / "outcome.json").read_text())
        except (OSError, ValueError):
            return {}
        return saved if isinstance(saved, dict) else {}

    def _report(self, outcome: str, version: int | None, refresh: bool = True) -> None:
        self.outcome, self.outcome_version = outcome, version
        saved = {"outcome": outcome, "outcome_version": version, "running_version": self.running_version}
        saved["down_before"] = self.down_before
        write_atomically(self.state.folder / "outcome.json", json.dumps(saved))
        if refresh:
            self.agent.uplink.refresh_status()

    def status(self) -> dict[str, object]:
        """The remote-config part of the retained status."""
        return {
            "config_version": self.running_version,
            "config_hash": config_hash(self.running_text),
            "config_outcome": self.outcome,
            "config_outcome_version": self.outcome_version,
            "config_refused": dict(self.state.counts),
            "config_watching": self._watch is not None and not self._watch.done(),
        }

    async def on_message(self, payload: bytes) -> None:
        """Examine one message (its config checked by a child process while the agent runs on), then
        apply or refuse it; messages are examined one at a time, in order."""
        gateway_id, limit = self.agent.config.gateway.id, self.section.max_bytes
        # The agent's config lock: candidate.toml is written and read back by one check at a time, and
        # a SIGHUP reload checked meanwhile is applied before or after this one, never in between.
        async with self.agent.config_lock:
            result = await asyncio.to_thread(examine, payload, gateway_id, self.key_file, self.state, limit)
            if not isinstance(result, Refused):
                self._apply(result)
                return
        if result.reason == "replay" and result.version == self.state.version:
            return  # the retained message of the version accepted last, again at a reconnect
        self.state.counts[result.reason] += 1
        which = f"version {result.version}" if result.version is not None else "(version unknown)"
        log.error("remote config %s %s; the running config stays", which, result.outcome)
        self._report(result.outcome, result.version)

    def _run(self, text: str, version: int) -> None:
        """Make `text` (version `version`, 0: the installed file) the config a restart starts from."""
        if version:
            write_atomically(self.active, text)
        else:
            self.active.unlink(missing_ok=True)
        self.running_text, self.running_version = text, version

    def _apply(self, accepted: Accepted) -> None:
        self.state.accept(accepted.version)
        restart = restart_needed(self.agent.config, accepted.config)
        if restart:
            self._run(accepted.text, accepted.version)
            self.down_before = len(
                down_now(self.agent.board.devices, set(device_intervals(self.agent.config)))
            )
            sections = "], [".join(restart)
            self._report(f"applied version {accepted.version}: restarting for [{sections}]", accepted.version)
            log.warning("remote config %d changes [%s]: exiting for a restart", accepted.version, sections)
            self.stop()
            return
        previous = Previous(self.running_text, self.running_version, self.agent.config, self.agent.profiles)
        board = self.agent.board.devices
        down_before = len(down_now(board, set(device_intervals(self.agent.config))))
        applied_ns = time.time_ns()
        self.agent.apply(accepted.config, accepted.profiles)
        self._run(accepted.text, accepted.version)
        if self._watch is not None:
            self._watch.cancel()
        rounds = RoundWatch(
            device_intervals(accepted.config), down_before, applied_ns, self.section.rollback_after_s
        )
        watch = self._watch_collectors(accepted.version, rounds, previous)
        self._watch = asyncio.get_running_loop().create_task(watch, name="remote-config-rollback")
        self._report(f"applied version {accepted.version}", accepted.version)  # config_watching: true
        log.info("remote config version %d applied", accepted.version)

    async def _watch_collectors(self, version: int, rounds: RoundWatch, previous: Previous) -> None:
        """Judge every complete poll round of the window (remote_watch); roll back at the first bad one."""
        verdict = await self._judge(rounds)
        if not verdict.rollback:
            log.info("remote config version %d %s", version, verdict.why)
            self.agent.uplink.refresh_status()  # runs after this task ends: config_watching false
            return
        async with self.agent.config_lock:  # the config that ran before, as it ran: nothing to check again
            self.agent.apply(previous.config, previous.profiles)
            self._run(previous.text, previous.version)
        log.error("remote config version %d rolled back to %d: %s", version, previous.version, verdict.why)
        self._report(f"rolled back: {verdict.why}", version)

    async def _judge(self, rounds: RoundWatch, uplink_by_ns: int | None = None) -> Verdict:
        """The verdict on the poll rounds, woken at each poll; with `uplink_by_ns`, also a rollback when
        the broker has not been reached by then."""
        board, stats = self.agent.board, self.agent.uplink.stats
        while True:
            board.polled.clear()
            now_ns = time.time_ns()
            if uplink_by_ns is not None and now_ns >= uplink_by_ns and not stats.connects:
                return Verdict(True, f"broker not reached within {self.section.rollback_after_s:g} s")
            if (verdict := rounds.check(board.devices, now_ns)) is not None:
                return verdict
            wait_s = rounds.wait_s(now_ns)
            if uplink_by_ns is not None and now_ns < uplink_by_ns:
                wait_s = min(wait_s, (uplink_by_ns - now_ns) / 1e9)
            with contextlib.suppress(TimeoutError):  # the next poll, or the next instant a verdict is due
                await asyncio.wait_for(board.polled.wait(), wait_s)

    async def watch_uplink(self) -> None:
        """Started from a remote config saved for a restart: judged like a live apply (its poll rounds
        against the devices down before the restart), and no broker within `rollback_after_s` rolls it
        back too; a rollback deletes it and exits, for systemd to start the installed file."""
        if not self.from_active:
            return
        self._watch = asyncio.current_task()  # config_watching; a newer apply cancels this judgement
        started_ns = time.time_ns()
        window_s = self.section.rollback_after_s
        rounds = RoundWatch(device_intervals(self.agent.config), self.down_before, started_ns, window_s)
        verdict = await self._judge(rounds, started_ns + int(window_s * 1e9))
        if not verdict.rollback:
            log.info("remote config version %d %s after the restart", self.running_version, verdict.why)
            self.agent.uplink.refresh_status()
            return
        self.active.unlink(missing_ok=True)
        log.error("remote config rolled back: %s; exiting to restart from the installed file", verdict.why)
        version, self.running_version = self.running_version, 0
        self._report(f"rolled back: {verdict.why}", version, refresh=False)
        self.stop()
