"""Every measurement the alert rules, the boards, the report, the availability job, the Grafana alert
export and the NOC's schema table name is one core.schema knows: rules.toml keeps literal names, and
this is what keeps them honest (the query text takes its names from core.schema)."""

from __future__ import annotations

import datetime
from typing import Any

from edge_gateway.alerts.grafana import provisioning
from edge_gateway.alerts.rules import load_rules
from edge_gateway.core import schema
from edge_gateway.noc import availability, report
from edge_gateway.noc.availability import Influx
from edge_gateway.noc.build import all_dashboards
from edge_gateway.noc.schema import SCHEMA
from tests.dashboards.queries import panel_queries, references, variable_queries

WIB = datetime.timezone(datetime.timedelta(hours=7))


def test_alert_rules_name_only_measurements_of_the_schema() -> None:
    named = {rule.measurement for rule in load_rules() if rule.measurement is not None}
    assert named, "no rule names a measurement: the check would prove nothing"
    assert named <= schema.MEASUREMENTS, f"not in core.schema: {named - schema.MEASUREMENTS}"


def test_dashboard_queries_name_only_measurements_of_the_schema() -> None:
    dashboards = [d.to_json() for d in all_dashboards()]
    queries = [q for d in dashboards for q in (*panel_queries(d), *variable_queries(d))]
    named = set().union(*(references(q.text)[0] for q in queries))
    assert schema.DEVICE_STATUS in named
    assert named <= schema.MEASUREMENTS, f"not in core.schema: {named - schema.MEASUREMENTS}"


class _Recorder(Influx):
    """Keeps every query it is asked; answers one site position and nothing else, so that the report
    also computes that site's availability from its device_status (no stored figure)."""

    def __init__(self) -> None:
        super().__init__("http://127.0.0.1:1", "edge")
        self.queries: list[str] = []

    def query(self, text: str) -> list[dict[str, Any]]:
        self.queries.append(text)
        if text.startswith('SELECT mean("lat")'):
            return [{"tags": {"site": "s-1"}, "values": [[0, -6.7, 108.5]]}]
        return []


def _named(queries: list[str]) -> set[str]:
    return set().union(*(references(q)[0] for q in queries))


def test_report_and_availability_queries_name_only_measurements_of_the_schema() -> None:
    influx = _Recorder()
    start = datetime.datetime(2026, 12, 1, tzinfo=WIB)
    report.gather(influx, start, start + datetime.timedelta(days=7), WIB)
    statuses = [q for q in influx.queries if schema.DEVICE_STATUS in references(q)[0]]
    assert len(statuses) == 2, "the report asked for site positions but not for computed availability"
    availability.compute_day(influx, start.date(), WIB)
    availability.compute_month(influx, start.date(), WIB)
    availability.last_stored_day(influx, WIB)
    assert all(references(q)[0] for q in influx.queries), "a query with no FROM: the check would miss it"
    named = _named(influx.queries)
    assert {schema.DEVICE_STATUS, schema.AVAILABILITY, schema.ALERTS} <= named
    assert named <= schema.MEASUREMENTS, f"not in core.schema: {named - schema.MEASUREMENTS}"


def test_grafana_alert_queries_name_only_measurements_of_the_schema() -> None:
    groups: Any = provisioning(load_rules())["groups"]  # each rule's first data item is its InfluxQL
    queries = [d["model"]["query"] for g in groups for rule in g["rules"] for d in rule["data"][:1]]
    named = _named(queries)
    assert all(references(q)[0] for q in queries), "a query with no FROM: the check would miss it"
    assert schema.DEVICE_STATUS in named
    assert named <= schema.MEASUREMENTS, f"not in core.schema: {named - schema.MEASUREMENTS}"


def test_the_boards_field_table_covers_only_measurements_of_the_schema() -> None:
    assert SCHEMA.keys() <= schema.MEASUREMENTS


def test_reserved_measurements_and_status_priorities_are_measurements_of_the_schema() -> None:
    assert schema.BRIDGE_MEASUREMENTS | schema.STATUS_MEASUREMENTS <= schema.MEASUREMENTS
    assert schema.priority_of_measurement(schema.DEVICE_STATUS) == schema.PRIORITY_STATUS
    assert schema.priority_of_measurement(schema.AP_IFACE) == schema.PRIORITY_BULK
