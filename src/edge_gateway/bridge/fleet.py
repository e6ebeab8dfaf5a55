"""The NOC's view of its gateways and its hand on their configuration, over the same broker.

`read_statuses` collects the retained `edge/+/status` messages (the inventory,
src/edge_gateway/agent/inventory.py);
`fleet_rows` turns them, with the expected list of `[fleet]`, into one row per gateway saying what is
wrong; `push` publishes a signed config to each target's own topic and `wait_outcomes` waits for each
gateway to say what it made of it. docs/fleet.md has the formats; the staged rollout builds on these.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
import time
from dataclasses import dataclass, fields
from typing import Any

import aiomqtt

from edge_gateway.bridge.fleet_settings import FleetSection
from edge_gateway.core import wire
from edge_gateway.core.mqtt import Client, client_options

STATUS_MAX_BYTES = 64 * 1024
OLDEST_WARN_S = 3600.0
DISK_FREE_WARN_BYTES = 100 * 2**20


def noc_connection(mqtt: Any, fleet: FleetSection) -> Any:
    """The bridge's broker settings with the NOC's login when `[fleet]` names one."""
    if fleet.username is None:
        return mqtt
    from edge_gateway.core.validation import validate  # reads the NOC's password_file

    kept = {key.name: getattr(mqtt, key.name) for key in fields(mqtt) if key.name != "password"}
    update = {"username": fleet.username, "password": None, "password_file": fleet.password_file}
    return validate(type(mqtt), kept | update)


def _client(conn: Any, client_id: str) -> Client:
    return Client(identifier=client_id, clean_start=True, **client_options(conn))


async def read_statuses(conn: Any, idle_s: float = 1.0, limit_s: float = 10.0) -> dict[str, dict[str, Any]]:
    """The retained statuses: the broker sends them all right after the subscription; the collection
    ends once none came for `idle_s` (retained messages carry no end marker), or after `limit_s`."""
    found: dict[str, dict[str, Any]] = {}
    async with _client(conn, f"edge-fleet-{time.monotonic_ns()}") as client:
        await client.subscribe(wire.ALL_STATUS, qos=1)
        loop = asyncio.get_running_loop()
        end_s = loop.time() + limit_s
        messages = aiter(client.messages)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(limit_s) as deadline:
                while True:
                    deadline.reschedule(min(loop.time() + idle_s, end_s))
                    message = await anext(messages)
                    gateway, status = parse_status(str(message.topic), message.payload)
                    if gateway is not None:
                        found[gateway] = status
    return found


def parse_status(topic: str, payload: Any) -> tuple[str | None, dict[str, Any]]:
    """A status message, bounded and checked; an unreadable one is shown as such, not skipped."""
    parts = topic.split("/")
    if len(parts) != 3 or not isinstance(payload, bytes):
        return None, {}
    if len(payload) > STATUS_MAX_BYTES:
        return parts[1], {"state": "unreadable", "problem": f"status of {len(payload)} bytes"}
    try:
        status = json.loads(payload)
    except (ValueError, RecursionError):  # nested deeper than the parser's limit, within the size bound
        return parts[1], {"state": "unreadable", "problem": "status is not JSON"}
    return parts[1], status if isinstance(status, dict) else {"state": "unreadable"}


@dataclass(frozen=True)
class Row:
    gateway: str
    state: str
    last_seen_s: float | None  # Unix time of the status; None: never reported
    version: str
    config_version: int
    outcome: str
    problems: list[str]


def what_is_wrong(status: dict[str, Any], now_s: float, stale_after_s: float) -> list[str]:
    problems = []
    state = status.get("state", "unknown")
    if state != wire.ONLINE:
        problems.append(str(status.get("problem", state)))
    elif now_s - float(status.get("time_s", 0)) > stale_after_s:
        problems.append("silent: no status refresh")
    outcome = str(status.get("config_outcome", ""))
    if outcome.startswith(("refused", "rolled back")):
        problems.append(f"config {outcome}")
    if float(status.get("buffer_oldest_s", 0)) > OLDEST_WARN_S:
        problems.append(f"oldest buffered reading {status['buffer_oldest_s']:.0f} s old")
    if "disk_free_bytes" in status and int(status["disk_free_bytes"]) < DISK_FREE_WARN_BYTES:
        problems.append(f"disk free {int(status['disk_free_bytes']) // 2**20} MiB")
    down = sum(int(kinds.get("down", 0)) for kinds in dict(status.get("devices", {})).values())
    if down:
        problems.append(f"{down} devices down")
    return problems


def row_of(gateway: str, status: dict[str, Any], now_s: float, stale_after_s: float) -> Row:
    """One gateway's row; a status with fields of the wrong type (a forged or broken one) shows as
    `unreadable` instead of taking the page down."""
    try:
        return Row(
            gateway,
            str(status.get("state", "unknown")),
            float(status["time_s"]) if "time_s" in status else None,
            str(status.get("version", "")),
            int(status.get("config_version", 0)),
            str(status.get("config_outcome", "")),
            what_is_wrong(status, now_s, stale_after_s),
        )
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        return Row(gateway, "unreadable", None, "", 0, "", [f"status unreadable: {type(exc).__name__}"])


def fleet_rows(
    statuses: dict[str, dict[str, Any]], expected: list[str], now_s: float, stale_after_s: float
) -> list[Row]:
    rows = [row_of(gateway, status, now_s, stale_after_s) for gateway, status in statuses.items()]
    never = [gateway for gateway in expected if gateway not in statuses]
    rows += [Row(gateway, "never seen", None, "", 0, "", ["never reported"]) for gateway in never]
    return sorted(rows, key=lambda row: row.gateway)


def matching(pattern: str, known: list[str]) -> list[str]:
    """The gateways a shell-style pattern (`cbn-*`) picks out of the expected and the reporting ones."""
    return sorted({gateway for gateway in known if fnmatch.fnmatchcase(gateway, pattern)})


async def push(conn: Any, payloads: dict[str, bytes]) -> None:
    """Publish each target's signed config, retained (docs/fleet.md says why), QoS 1, checked."""
    async with _client(conn, f"edge-fleet-{time.monotonic_ns()}") as client:
        for target, payload in payloads.items():
            await client.publish_checked(wire.config_topic(target), payload, qos=1, retain=True, timeout_s=30)


async def wait_outcomes(
    conn: Any,
    targets: list[str],
    version: int,
    pushed_s: float,
    wait_s: float,
    subscribed: asyncio.Event | None = None,
) -> dict[str, str]:
    """Each target's outcome for `version` as its status reports it, or `no answer` after `wait_s`.

    `subscribed` is set once the statuses are subscribed: push after that, or a gateway that answers
    and exits at once (a restart for `[uplink]`) may have replaced its retained answer with `stopped`."""
    outcomes = dict.fromkeys(targets, "no answer")
    async with _client(conn, f"edge-fleet-{time.monotonic_ns()}") as client:
        await client.subscribe(wire.ALL_STATUS, qos=1)
        if subscribed is not None:
            subscribed.set()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait_s):
                async for message in client.messages:
                    gateway, status = parse_status(str(message.topic), message.payload)
                    if gateway in outcomes and _answers(status, version, pushed_s):
                        outcomes[gateway] = str(status["config_outcome"])
                    if all(outcome != "no answer" for outcome in outcomes.values()):
                        break
    return outcomes


def _answers(status: dict[str, Any], version: int, pushed_s: float) -> bool:
    """A status answers a push of `version` when its outcome is about that version, or is a refusal
    of a message whose version could not be trusted (bad signature, truncated) published after the push."""
    if status.get("config_outcome_version") == version:
        return True
    refused = str(status.get("config_outcome", "")).startswith("refused")
    late = float(status.get("time_s", 0)) >= pushed_s
    return refused and late and status.get("config_outcome_version") is None


class FleetWatch:
    """The bridge's fleet page source: the latest status of every gateway, kept from `edge/+/status`
    over the bridge's own connection (its role may read the statuses), for `/fleet` and `/fleet.json`."""

    def __init__(self, conn: Any, client_id: str, fleet: FleetSection) -> None:
        self.conn, self.client_id, self.fleet = conn, client_id, fleet
        self.statuses: dict[str, dict[str, Any]] = {}

    def rows(self, now_s: float) -> list[Row]:
        return fleet_rows(self.statuses, self.fleet.expected, now_s, self.fleet.stale_after_s)

    async def run(self) -> None:
        """Forever: reconnect after a pause when the broker goes away; the page keeps the last view."""
        while True:
            try:
                async with _client(self.conn, self.client_id) as client:
                    await client.subscribe(wire.ALL_STATUS, qos=1)
                    async for message in client.messages:
                        gateway, status = parse_status(str(message.topic), message.payload)
                        if gateway is not None:
                            self.statuses[gateway] = status
            except aiomqtt.MqttError:
                await asyncio.sleep(self.conn.reconnect_max_s)
