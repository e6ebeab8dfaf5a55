"""Alert rules evaluated on a gateway's stream of readings, aware of backfill, restarts and stops.

Two clocks matter. A reading's own time decides *what* state a device was in; the wall clock decides
*whether that is news*. A gateway draining an hour-old backlog delivers readings that say how things
were, not how they are: they update the state (and may resolve alerts) but never raise one, unless
they are younger than `max_age_s`.

Three states, not two. While a gateway is *live* (not offline or stopped by its status, and
delivering readings younger than `LIVE_S`) its devices are judged. Otherwise we cannot see them:
their alerts are neither resolved (missing data is not good news) nor raised (not seeing a device
is not the device's fault); they stay as they were, marked `unknown`. A vanished gateway (its Last
Will, `offline`) is one `GatewayOffline`; a planned stop (`stopped`, a clean disconnect) pages
nobody. Absence is measured from when the gateway became live again, so a sensor is not called
stale because its gateway was away.

A device removed from the gateway's config (a `device_status` with `removed=true`, sent by the agent
on reload) takes its alerts with it: resolved once, forgotten.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from edge_gateway.alerts.rules import Rule
from edge_gateway.alerts.window import WindowMean
from edge_gateway.core import schema, wire
from edge_gateway.core.model import Reading

SERIES_TAGS = ("device", "sensor", "radio", "ifname", "lane", "site")
LIVE_S = 60.0  # a gateway whose newest reading is older than this is not live: we cannot see behind it

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Alert:
    """One alert instance: a rule for one series (gateway, device, ...)."""

    labels: Labels
    summary: str
    starts_at_s: float
    unknown: bool = False  # firing when last seen, but its gateway is not live: we cannot see it now

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)


@dataclass
class _State:
    count: int = 0
    last_time_ns: int = 0
    labels: Labels = ()
    firing: Alert | None = None
    window: WindowMean | None = None


@dataclass
class _Gateway:
    status: str = wire.ONLINE  # what its retained status says; online until told otherwise
    newest_ns: int = 0  # the newest reading time seen
    live_since_s: float = 0.0  # wall time it became live again: absence is measured from here
    online_since_s: float = 0.0  # wall time its status last turned online


@dataclass
class Changes:
    fired: list[Alert] = field(default_factory=list)
    resolved: list[Alert] = field(default_factory=list)


def _about_gateway(rule: Rule) -> bool:
    """Rules on the gateway's presence itself (its Last Will, its silence), which we always know."""
    return rule.kind == "offline" or (rule.kind == "stale" and rule.measurement == schema.GATEWAY)


class _Labels(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


class Engine:
    def __init__(
        self, rules: Sequence[Rule], max_age_s: float = 300.0, clock: Callable[[], float] = time.time
    ):
        self.rules = {rule.name: rule for rule in rules}
        self.max_age_s = max_age_s
        self.clock = clock
        self._states: dict[tuple[str, Labels], _State] = {}
        self._gateways: dict[str, _Gateway] = {}
        self._removed: dict[tuple[str, str], int] = {}  # (gateway, device): time of its removal
        self._changes = Changes()

    def _series(self, rule: Rule, gateway: str, tags: dict[str, str]) -> Labels:
        labels = {"alertname": rule.name, "severity": rule.severity, "gateway": gateway}
        labels |= {key: tags[key] for key in SERIES_TAGS if tags.get(key)}
        if "sensor" in labels and "device" not in labels:
            labels["device"] = labels["sensor"]
        return tuple(sorted(labels.items()))

    def _fire(self, rule: Rule, state: _State, started_s: float) -> None:
        if state.firing is None:
            state.firing = Alert(state.labels, rule.summary.format_map(_Labels(state.labels)), started_s)
            self._changes.fired.append(state.firing)

    def _resolve(self, state: _State) -> None:
        if state.firing is not None:
            self._changes.resolved.append(state.firing)
            state.firing = None

    def _gateway(self, gateway: str) -> _Gateway:
        return self._gateways.setdefault(gateway, _Gateway())

    def live(self, gateway: str) -> bool:
        """Whether we can see behind the gateway now: online and delivering fresh readings."""
        known = self._gateway(gateway)
        fresh = self.clock() - known.newest_ns / 1e9 < LIVE_S
        return fresh and known.status == wire.ONLINE

    def observe(self, gateway: str, readings: Iterable[Reading]) -> None:
        """Feed readings of one gateway, in any order; duplicates and stale repeats are ignored."""
        now_s = self.clock()
        known = self._gateway(gateway)
        was_live = self.live(gateway)
        for reading in sorted(readings, key=lambda r: r.time_ns):
            known.newest_ns = max(known.newest_ns, reading.time_ns)
            device = reading.tags.get("device") or reading.tags.get("sensor") or ""
            if reading.time_ns <= self._removed.get((gateway, device), 0):
                continue  # a late copy of a removed device's reading
            if reading.measurement == schema.DEVICE_STATUS and reading.fields.get("removed") is True:
                self._forget(gateway, device, reading.time_ns)
                continue
            for rule in self.rules.values():
                if rule.kind != "offline" and rule.matches(reading):
                    self._judge(rule, gateway, reading, now_s)
        if not was_live and self.live(gateway):
            known.live_since_s = now_s

    def _judge(self, rule: Rule, gateway: str, reading: Reading, now_s: float) -> None:
        labels = self._series(rule, gateway, dict(reading.tags))
        state = self._states.setdefault((rule.name, labels), _State(labels=labels))
        if reading.time_ns <= state.last_time_ns:
            return  # a redelivery, or older than what was already judged
        state.last_time_ns = reading.time_ns
        if rule.kind == "stale":
            self._resolve(state)
            return
        condition = rule.condition(reading)
        if rule.mean_over_s is not None:
            condition = self._mean_condition(rule, state, reading)
        if condition is None:
            return
        state.count = state.count + 1 if condition else 0
        if not condition:
            self._resolve(state)
        elif state.count >= rule.for_cycles and now_s - reading.time_ns / 1e9 <= self.max_age_s:
            self._fire(rule, state, reading.time_ns / 1e9)

    def _mean_condition(self, rule: Rule, state: _State, reading: Reading) -> bool | None:
        value = rule.number(reading)
        if value is None or rule.mean_over_s is None:
            return None
        if state.window is None:
            state.window = WindowMean(rule.mean_over_s, rule.min_coverage)
        mean = state.window.add(reading.time_ns / 1e9, value)
        return None if mean is None else rule.crosses(mean, reading.tags.get("site", ""))

    def _forget(self, gateway: str, device: str, time_ns: int) -> None:
        """A device removed from the gateway's config: its alerts resolve once, its state goes."""
        self._removed[(gateway, device)] = time_ns
        for key, state in list(self._states.items()):
            labels = dict(state.labels)
            if labels["gateway"] == gateway and labels.get("device") == device:
                self._resolve(state)
                del self._states[key]

    def gateway_status(self, gateway: str, state: str) -> None:
        """The gateway's retained status: `online`; `stopped` (a planned, clean stop: nobody is paged);
        `offline` (its Last Will: the connection dropped without a goodbye)."""
        if state not in wire.GATEWAY_STATES:
            return
        known = self._gateway(gateway)
        if state == wire.ONLINE and known.status != wire.ONLINE:
            known.online_since_s = self.clock()
        known.status = state
        for rule in (r for r in self.rules.values() if _about_gateway(r)):
            labels = self._series(rule, gateway, {})
            if rule.kind == "offline":
                offline = self._states.setdefault((rule.name, labels), _State(labels=labels))
                if state == wire.OFFLINE:
                    self._fire(rule, offline, self.clock())
                else:
                    self._resolve(offline)
            elif state != wire.ONLINE and (silent := self._states.get((rule.name, labels))) is not None:
                self._resolve(silent)  # no longer connected-but-silent: gone or stopped

    def tick(self) -> Changes:
        """Judge absence (stale) now, and hand over what fired or resolved since the last tick."""
        now_s = self.clock()
        for (name, labels), state in self._states.items():
            rule = self.rules[name]
            if rule.kind != "stale" or state.firing is not None:
                continue
            gateway = self._gateway(dict(labels)["gateway"])
            if rule.measurement == "gateway":  # the agent's own health: judged while it is online
                judged, since_s = gateway.status == wire.ONLINE, gateway.online_since_s
            else:  # a device: judged while we can see behind its gateway
                judged, since_s = self.live(dict(labels)["gateway"]), gateway.live_since_s
            quiet_s = now_s - max(state.last_time_ns / 1e9, since_s)
            if judged and quiet_s > rule.stale_after_s:
                self._fire(rule, state, max(state.last_time_ns / 1e9, since_s) + rule.stale_after_s)
        changes, self._changes = self._changes, Changes()
        return changes

    def active(self) -> list[Alert]:
        """Every firing alert; those of a gateway we cannot see now are marked unknown."""
        alerts = []
        for state in self._states.values():
            if state.firing is None:
                continue
            gateway = state.firing.label_map["gateway"]
            unknown = not _about_gateway(self.rules[state.firing.label_map["alertname"]])
            unknown = unknown and not self.live(gateway)
            alerts.append(dataclasses.replace(state.firing, unknown=unknown))
        return alerts

    def readings(self, changes: Changes, time_ns: int) -> list[Reading]:
        """The `alerts` measurement for the dashboards: every active alert, and those just resolved."""
        points = [(alert, True) for alert in self.active()] + [(alert, False) for alert in changes.resolved]
        return [
            Reading(
                schema.ALERTS,
                alert.label_map,
                {"firing": firing, "unknown": alert.unknown, "summary": alert.summary},
                time_ns,
            )
            for alert, firing in points
        ]
