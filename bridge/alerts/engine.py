"""Alert rules evaluated on the stream of stored readings, aware of backfill.

Two clocks matter. A reading's own time decides *what* state a device was in; the wall clock decides
*whether that is news*. A gateway draining an hour-old backlog delivers readings that say how things
were, not how they are: they update the state (and may resolve alerts) but never raise one, unless
they are younger than `max_age_s`. Absence (stale) is only judged for gateways that are delivering
fresh readings: a gateway that is offline or still catching up raises one `GatewayOffline` (from its
Last Will), not one alert per device behind it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from bridge.alerts.rules import Rule
from edge.model import Reading

SERIES_TAGS = ("device", "sensor", "radio", "ifname", "lane", "site")


@dataclass(frozen=True)
class Alert:
    """One alert instance: a rule for one series (gateway, device, ...)."""

    labels: tuple[tuple[str, str], ...]
    summary: str
    starts_at_s: float

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)


@dataclass
class _State:
    count: int = 0
    last_time_ns: int = 0
    labels: tuple[tuple[str, str], ...] = ()
    firing: Alert | None = None


@dataclass
class Changes:
    fired: list[Alert] = field(default_factory=list)
    resolved: list[Alert] = field(default_factory=list)


class _Labels(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


class Engine:
    def __init__(
        self, rules: Sequence[Rule], max_age_s: float = 300.0, clock: Callable[[], float] = time.time
    ):
        self.rules = list(rules)
        self.max_age_s = max_age_s
        self.clock = clock
        self._states: dict[tuple[str, tuple[tuple[str, str], ...]], _State] = {}
        self._newest_ns: dict[str, int] = {}  # per gateway: the newest reading time seen
        self._offline: set[str] = set()
        self._changes = Changes()

    def _series(self, rule: Rule, gateway: str, tags: dict[str, str]) -> tuple[tuple[str, str], ...]:
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

    def observe(self, gateway: str, readings: Iterable[Reading]) -> None:
        """Feed stored readings of one gateway, in any order; duplicates and stale repeats are ignored."""
        now_s = self.clock()
        for reading in sorted(readings, key=lambda r: r.time_ns):
            self._newest_ns[gateway] = max(self._newest_ns.get(gateway, 0), reading.time_ns)
            for rule in self.rules:
                if rule.kind in ("offline",) or not rule.matches(reading):
                    continue
                labels = self._series(rule, gateway, dict(reading.tags))
                state = self._states.setdefault((rule.name, labels), _State(labels=labels))
                if reading.time_ns <= state.last_time_ns:
                    continue  # a redelivery, or older than what was already judged
                state.last_time_ns = reading.time_ns
                if rule.kind == "stale":
                    if state.firing is not None:
                        self._resolve(state)
                    continue
                condition = rule.condition(reading)
                if condition is None:
                    continue
                state.count = state.count + 1 if condition else 0
                if not condition:
                    self._resolve(state)
                elif state.count >= rule.for_cycles and now_s - reading.time_ns / 1e9 <= self.max_age_s:
                    self._fire(rule, state, reading.time_ns / 1e9)

    def gateway_status(self, gateway: str, online: bool) -> None:
        """The gateway's retained status: `offline` comes from its Last Will or a clean shutdown."""
        if online:
            self._offline.discard(gateway)
        else:
            self._offline.add(gateway)
        for rule in (r for r in self.rules if r.kind == "offline"):
            labels = self._series(rule, gateway, {})
            state = self._states.setdefault((rule.name, labels), _State(labels=labels))
            if online:
                self._resolve(state)
            else:
                self._fire(rule, state, self.clock())

    def tick(self) -> Changes:
        """Judge absence (stale) now, and hand over what fired or resolved since the last tick."""
        now_s = self.clock()
        for (name, labels), state in self._states.items():
            rule = next(r for r in self.rules if r.name == name)
            if rule.kind != "stale" or state.firing is not None:
                continue
            gateway = dict(labels)["gateway"]
            # A device is judged only while its gateway delivers fresh readings; the gateway's own
            # health readings are judged while it is not known to be offline.
            gateway_quiet_s = now_s - self._newest_ns.get(gateway, 0) / 1e9
            judged = rule.measurement == "gateway" or gateway_quiet_s < rule.stale_after_s
            quiet_s = now_s - state.last_time_ns / 1e9
            if judged and gateway not in self._offline and quiet_s > rule.stale_after_s:
                self._fire(rule, state, state.last_time_ns / 1e9 + rule.stale_after_s)
        changes, self._changes = self._changes, Changes()
        return changes

    def active(self) -> list[Alert]:
        return [state.firing for state in self._states.values() if state.firing is not None]

    def readings(self, changes: Changes, time_ns: int) -> list[Reading]:
        """The `alerts` measurement for the dashboards: every active alert, and those just resolved."""
        points = [(alert, True) for alert in self.active()] + [(alert, False) for alert in changes.resolved]
        return [
            Reading("alerts", alert.label_map, {"firing": firing, "summary": alert.summary}, time_ns)
            for alert, firing in points
        ]
