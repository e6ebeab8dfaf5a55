"""A staged rollout: a config goes to a few canary gateways first, the rest only once those are healthy.

A gateway that is refused a config keeps running the old one; one that applies it and then breaks
(its uplink, its collectors) rolls back by itself, but only after `rollback_after_s`. So a canary stage
is judged twice: each canary's outcome for the version must be `applied ...`, then its retained status
must be online, running that version (a restart for `[uplink]` included: it has to come back) and done
judging it (`config_watching` false: the gateway kept the config after its own watch window), and stay
so for `settle_s`. The first stage that fails stops the rollout; the report says which gateway and what
it said, and which gateways were never sent anything. docs/fleet.md has the command.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from edge_gateway.bridge.fleet import _client, parse_status, push, wait_outcomes
from edge_gateway.core import wire

HEALTHY = "healthy"
JUDGING = "still judging the config"
# How long past settle_s + wait_s a canary still judging the config is waited for: its watch window
# (rollback_after_s, default 120 s) plus the up to 15 min it waits for a slow device's round.
WATCH_MAX_S = 1200.0


@dataclass
class Rollout:
    """What a staged push did: per stage, each gateway's outcome; where it stopped, and why."""

    stages: list[dict[str, str]] = field(default_factory=list)
    stopped_at: int | None = None  # index of the failed stage
    not_pushed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # the gateways of the failed stage that failed

    @property
    def ok(self) -> bool:
        return self.stopped_at is None


def stages_of(targets: list[str], canary: int) -> list[list[str]]:
    """The canaries (the first `canary` targets in order), then everything else; one stage if no canary."""
    if canary <= 0 or canary >= len(targets):
        return [targets]
    return [targets[:canary], targets[canary:]]


def health_of(status: dict[str, Any], version: int, started_after_s: float | None = None) -> str:
    """`healthy` when the status is online and running `version` (and, for a gateway that said it
    restarts for the config, from a start after `started_after_s`: the status it published just before
    its exit does not count); else what it shows instead."""
    state, running = status.get("state"), status.get("config_version")
    try:
        started_s = float(status.get("time_s", 0)) - float(status.get("uptime_s", 0))
    except (TypeError, ValueError):
        started_s = 0.0
    restarted = started_after_s is None or started_s >= started_after_s
    if state == wire.ONLINE and running == version and restarted:
        return JUDGING if status.get("config_watching") is True else HEALTHY
    said = f"{state}, running config version {running}, {status.get('config_outcome', 'no outcome')}"
    return said if restarted else f"{said}, not restarted yet"


async def wait_healthy(
    conn: Any,
    targets: list[str],
    version: int,
    settle_s: float,
    wait_s: float,
    restarting: dict[str, float] | None = None,
) -> dict[str, str]:
    """Each target's health after `settle_s`, waiting up to `wait_s` more for ones still restarting
    (`restarting`: gateway → Unix time after which its new start must be).

    The latest retained status counts: a rollback during the settle time replaces the healthy one."""
    restarting = restarting or {}
    latest: dict[str, dict[str, Any]] = {target: {"state": "no status"} for target in targets}
    loop = asyncio.get_running_loop()
    settled_at, end_at = loop.time() + settle_s, loop.time() + settle_s + wait_s
    judging_end_at = end_at + WATCH_MAX_S

    def verdict() -> dict[str, str]:
        return {target: health_of(latest[target], version, restarting.get(target)) for target in targets}

    async with _client(conn, f"edge-fleet-health-{time.monotonic_ns()}") as client:
        await client.subscribe(wire.ALL_STATUS, qos=1)
        messages = aiter(client.messages)
        while loop.time() < end_at or (loop.time() < judging_end_at and JUDGING in verdict().values()):
            if loop.time() >= settled_at and all(v == HEALTHY for v in verdict().values()):
                break
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(0.5, max(end_at - loop.time(), 0.0))):
                    message = await anext(messages)
                    gateway, status = parse_status(str(message.topic), message.payload)
                    if gateway in latest:
                        latest[gateway] = status
    return verdict()


async def staged_push(
    conn: Any,
    payloads: dict[str, bytes],
    version: int,
    canary: int,
    wait_s: float,
    settle_s: float,
    now_s: float,
    say: Callable[[str], None] = lambda _: None,
) -> Rollout:
    """Push `payloads` (signed, one per gateway) stage by stage; stop at the first unhealthy stage.

    `now_s` is the Unix time of the first push: a refusal of an unreadable message counts from then.
    `say` hears the progress as it happens (the CLI prints it to stderr; stdout keeps the outcomes)."""
    report = Rollout()
    stages = stages_of(sorted(payloads), canary)
    for index, stage in enumerate(stages):
        name = stage_name(index, len(stages))
        say(f"stage {index + 1} of {len(stages)} ({name}): {_listed(stage)}")
        subscribed = asyncio.Event()
        async with asyncio.TaskGroup() as tasks:  # listening before pushing: no answer missed
            waiting = tasks.create_task(wait_outcomes(conn, stage, version, now_s, wait_s, subscribed))
            await subscribed.wait()
            await push(conn, {target: payloads[target] for target in stage})
        outcomes = waiting.result()
        report.stages.append(outcomes)
        failed = sorted(gw for gw, outcome in outcomes.items() if not outcome.startswith("applied"))
        if not failed and index < len(stages) - 1:
            say(f"stage {index + 1}: applied by all {len(stage)}; waiting until each has kept it")
            restarting = {gw: now_s for gw in stage if "restarting" in outcomes[gw]}
            health = await wait_healthy(conn, stage, version, settle_s, wait_s, restarting)
            failed = sorted(gw for gw, said in health.items() if said != HEALTHY)
            outcomes.update({gw: f"{outcomes[gw]}, then {health[gw]}" for gw in failed})
            if not failed:
                say(f"stage {index + 1}: healthy on version {version}; going on")
        if failed:
            report.stopped_at, report.failed = index, failed
            report.not_pushed = [target for later in stages[index + 1 :] for target in later]
            return report
    return report


def stage_name(index: int, count: int) -> str:
    return "canary" if index == 0 and count > 1 else "rest" if count > 1 else "all"


def _listed(gateways: list[str], shown: int = 6) -> str:
    names = ", ".join(gateways[:shown])
    return f"{names} and {len(gateways) - shown} more" if len(gateways) > shown else names


def describe(report: Rollout) -> list[str]:
    """The lines `edge fleet push` prints: each gateway's outcome, stage by stage, then where it stopped."""
    lines = [f"{gw}: {said}" for outcomes in report.stages for gw, said in sorted(outcomes.items())]
    if report.stopped_at is not None and (report.stopped_at > 0 or report.not_pushed):
        stage = report.stopped_at
        name = "canary" if stage == 0 and report.not_pushed else "rest"
        for gateway in report.failed:
            lines.append(f"stopped at stage {stage + 1} ({name}): {gateway}: {report.stages[stage][gateway]}")
        if report.not_pushed:
            lines.append(f"not pushed: {', '.join(report.not_pushed)}")
    return lines
