"""Every measurement the alert rules, the boards and the NOC's schema table name is one core.schema knows:
rules.toml and the panels' query text keep literal names, and this is what keeps them honest."""

from __future__ import annotations

from edge_gateway.alerts.rules import load_rules
from edge_gateway.core import schema
from edge_gateway.noc.build import all_dashboards
from edge_gateway.noc.schema import SCHEMA
from tests.dashboards.queries import panel_queries, references, variable_queries


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


def test_the_boards_field_table_covers_only_measurements_of_the_schema() -> None:
    assert SCHEMA.keys() <= schema.MEASUREMENTS


def test_reserved_measurements_and_status_priorities_are_measurements_of_the_schema() -> None:
    assert schema.BRIDGE_MEASUREMENTS | schema.STATUS_MEASUREMENTS <= schema.MEASUREMENTS
    assert schema.priority_of_measurement(schema.DEVICE_STATUS) == schema.PRIORITY_STATUS
    assert schema.priority_of_measurement(schema.AP_IFACE) == schema.PRIORITY_BULK
