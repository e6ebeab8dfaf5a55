"""Fleet health: are the gateways and the bridge keeping up? Buffer depth and oldest age per gateway,
uplink state, dropped readings, and what the bridge saw: gaps, duplicates and lag.
"""

from __future__ import annotations

from edge_gateway.core import schema
from edge_gateway.noc.model import Dashboard, Panel, Step, Target, Variable
from edge_gateway.noc.panels import UP_DOWN, state_timeline, table, timeseries

UID = "edge-fleet"
GATEWAY = '"gateway" =~ /^$gateway$/ AND $timeFilter'
VARIABLES = [
    Variable(
        "gateway",
        "Gateway",
        f'SHOW TAG VALUES FROM "{schema.GATEWAY}" WITH KEY = "gateway"',
        multi=True,
        include_all=True,
    )
]


def _per_gateway(measurement: str, select: str, by: str = '"gateway"') -> Target:
    query = (
        f'SELECT {select} FROM "{measurement}" WHERE {GATEWAY} GROUP BY time($__interval), {by} fill(none)'
    )
    return Target(query, alias="$tag_gateway" if by == '"gateway"' else "$tag_gateway via $tag_bridge")


def _overview() -> Panel:
    query = (
        'SELECT last("uplink_up") AS uplink, last("buffer_readings") AS buffered, '
        'last("oldest_s") AS oldest_s, last("dropped") AS dropped, last("disk_free_bytes") AS disk_free '
        f'FROM "{schema.GATEWAY}" '
        f'WHERE {GATEWAY} GROUP BY "gateway"'
    )
    return table("Gateways now", Target(query, result_format="table"), width=24, mappings=UP_DOWN)


def _agent() -> list[Panel]:
    return [
        timeseries(
            "Buffer depth", [_per_gateway(schema.GATEWAY, 'max("buffer_readings")')], unit="short", width=8
        ),
        timeseries(
            "Oldest buffered reading",
            [_per_gateway(schema.GATEWAY, 'max("oldest_s")')],
            unit="s",
            width=8,
            steps=[Step("green"), Step("orange", 300), Step("red", 3600)],
        ),
        timeseries(
            "Dropped readings",
            [_per_gateway(schema.GATEWAY, 'non_negative_difference(last("dropped"))')],
            unit="short",
            width=8,
            bars=True,
            description="Readings the full buffer dropped, per interval.",
        ),
        state_timeline("Uplink", _per_gateway(schema.GATEWAY, 'last("uplink_up")'), width=24),
    ]


def _bridge() -> list[Panel]:
    by_bridge = '"gateway", "bridge"'
    return [
        timeseries(
            "Sequence gaps",
            [_per_gateway(schema.INGEST, 'last("gaps")', by_bridge)],
            unit="short",
            width=8,
            steps=[Step("green"), Step("red", 1)],
            description="Batches the bridge has not (yet) seen; falls back when late batches arrive.",
        ),
        timeseries(
            "Duplicates",
            [_per_gateway(schema.INGEST, 'non_negative_difference(last("duplicates"))', by_bridge)],
            unit="short",
            width=8,
            bars=True,
            description="Redelivered batches per interval: harmless, a sign of reconnects.",
        ),
        timeseries(
            "Ingest lag",
            [_per_gateway(schema.INGEST, 'max("lag_s")', by_bridge)],
            unit="s",
            width=8,
            steps=[Step("green"), Step("orange", 60), Step("red", 600)],
        ),
        timeseries(
            "Dead letters",
            [_per_gateway(schema.INGEST, 'non_negative_difference(last("dead_letters"))', by_bridge)],
            unit="short",
            width=12,
            bars=True,
        ),
        timeseries(
            "Points stored",
            [_per_gateway(schema.INGEST, 'non_negative_difference(last("points"))', by_bridge)],
            unit="short",
            width=12,
            bars=True,
        ),
    ]


def build() -> Dashboard:
    return Dashboard(
        uid=UID,
        title="Fleet health",
        description="Gateways' buffers and uplinks, and the bridge's view of them: gaps, duplicates, lag.",
        panels=[_overview(), *_agent(), *_bridge()],
        variables=VARIABLES,
        tags=("edge", "fleet"),
    )
