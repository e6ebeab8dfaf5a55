"""Prometheus text exposition: the one renderer of the agent's and the bridge's `/metrics`.

Each program lists its metrics as `Metric` values and `render` writes the text format (HELP, TYPE,
one line per sample) with label values escaped. prometheus_client would do the same with a registry
and a thread-safe collector per metric, which a page rebuilt from the program's own state at every
scrape does not need, and the gateway would carry it for one page.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

Labels = Mapping[str, str]
NO_LABELS: Labels = {}


@dataclass(frozen=True, slots=True)
class Metric:
    """One metric family: its name, kind, help text and samples (labels, value)."""

    name: str
    kind: Literal["counter", "gauge"]
    help_text: str
    samples: Sequence[tuple[Labels, float]]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{key}="{_escape(value)}"' for key, value in labels.items()) + "}"


def _value(value: float) -> str:
    """Whole numbers in full (a counter of 1234567 is not `1.23457e+06`), others as Python's repr."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def render(metrics: Iterable[Metric]) -> str:
    """The text format of the metrics, in the order given."""
    out: list[str] = []
    for metric in metrics:
        out.append(f"# HELP {metric.name} {metric.help_text}")
        out.append(f"# TYPE {metric.name} {metric.kind}")
        out.extend(f"{metric.name}{_labels(labels)} {_value(value)}" for labels, value in metric.samples)
    return "\n".join(out) + "\n"
