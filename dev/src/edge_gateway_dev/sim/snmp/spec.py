"""What an AP is (ApSpec) and what is wrong with it right now (Faults), plus their text forms.

Faults is deliberately mutable: the agent reads it on every datagram, so flipping a field on a running
AP takes effect with the next request, which is how a test or `edge sim fleet` switches faults at runtime.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from edge_gateway_dev.sim.snmp.usm import V3User


class FaultSpecError(ValueError):
    """A fault text that names no fault or gives a bad value."""


@dataclass(slots=True)
class Faults:
    """Per-AP misbehaviour, all off by default. Each field is one symptom a real poller meets."""

    no_reply: bool = False  # the AP is dead or unreachable: every request times out
    delay_ms: int = 0  # replies leave this late (a slow CPU, a congested backhaul)
    truncate_rows: int | None = None  # the fault table's walk ends (endOfMibView) after this many rows
    truncate_table: str | None = None  # OID of the table entry to truncate; None = the vendor's client table
    too_big_varbinds: int | None = None  # GETBULK answers asking for more varbinds than this get tooBig
    non_increasing: bool = False  # GETNEXT/GETBULK inside the fault table return an OID <= the one asked
    flap_period_s: float | None = None  # up one period, down (silent) the next, by the clock
    wrong_community: bool = False  # the AP's community was changed: the configured one is ignored silently
    max_reply_bytes: int | None = None  # a small agent buffer: a reply larger than this is tooBig
    clock_skew_s: int = 0  # v3 requests are checked against a clock this far off the engine time it reports

    def update(self, text: str) -> None:
        """Apply 'name' or 'name=value' items separated by commas; 'clear' resets every fault."""
        kinds = {f.name: f.type for f in fields(self)}
        for raw in filter(None, (item.strip() for item in text.split(","))):
            name, _, value = raw.partition("=")
            if name == "clear":
                for f in fields(self):
                    setattr(self, f.name, getattr(Faults(), f.name))
                continue
            if name not in kinds:
                raise FaultSpecError(f"unknown fault {name!r}; known: {', '.join(kinds)}")
            setattr(self, name, _convert(name, str(kinds[name]), value))


def _convert(name: str, kind: str, value: str) -> object:
    try:
        if kind == "bool":
            return value in ("", "1", "true", "on", "yes")
        if value in ("", "off", "none"):
            return None if "None" in kind else 0
        if kind.startswith("int"):
            return int(value)
        if kind.startswith("float"):
            return float(value)
    except ValueError as exc:
        raise FaultSpecError(f"bad value {value!r} for fault {name}") from exc
    return value


def parse_faults(text: str) -> Faults:
    faults = Faults()
    faults.update(text)
    return faults


@dataclass(slots=True)
class ApSpec:
    """One simulated AP: its vendor profile, the seed of its behaviour, its credentials and faults.

    An AP answers v2c when `community` is set and v3 when `v3` is set (both may be). Like a real agent,
    every AP answers SNMPv3 engine discovery, even one with no v3 user (which then refuses any user).
    """

    name: str
    vendor: str
    seed: int
    community: str | None = "public"
    v3: V3User | None = None
    location: str = ""
    faults: Faults = field(default_factory=Faults)


@dataclass(slots=True)
class AgentStats:
    """What the agent did, for tests and ground truth: every datagram lands in exactly one counter."""

    responses: int = 0
    reports: int = 0
    dropped_silently: int = 0  # unknown community, fault, flapping down
    malformed: int = 0
    last_request_s: float | None = None
    by_pdu: dict[str, int] = field(default_factory=dict)
