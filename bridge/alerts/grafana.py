"""The alert rules as Grafana alert-rule provisioning, for sites that prefer Grafana alerting.

Grafana evaluates InfluxQL on a schedule, so what translates is what a query can say: thresholds
(one rule per site that has its own limit, plus one for the rest), `down` and `stuck` as counts over
the last polls. Absence (`stale`, the gateway's Last Will, a silent gateway) has no query: Grafana's
"no data" state stands in for it (`noDataState: Alerting` on the `down` rules), and the bridge's own
engine remains the one that knows about backfill. Written as JSON, which Grafana's YAML reader takes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from bridge.alerts.engine import SERIES_TAGS
from bridge.alerts.rules import Rule

DATASOURCE_UID = "edge-influxdb"  # the data source of dashboards/provisioning
EVERY_S = 60
WINDOW_S = 600
GRAFANA_OP = {">": "gt", ">=": "gt", "<": "lt", "<=": "lt"}
EPSILON = 1e-9  # Grafana has only strict comparisons: >= v is > v - epsilon


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _where(rule: Rule, site: str | None, other_sites: Sequence[str]) -> str:
    terms = [f'"{key}" = {_quote(value)}' for key, value in sorted(rule.where.items())]
    terms += [f'"{key}" != {_quote(value)}' for key, value in sorted(rule.where_not.items())]
    terms += [f'"site" = {_quote(site)}'] if site else [f'"site" != {_quote(s)}' for s in other_sites]
    return "".join(f" AND {term}" for term in terms)


def _query(rule: Rule, site: str | None, other_sites: Sequence[str]) -> tuple[str, float, str]:
    """InfluxQL, the threshold and the comparison for one rule (and one site's limit)."""
    group = "GROUP BY " + ", ".join(f'"{tag}"' for tag in ("gateway", *SERIES_TAGS))
    where = _where(rule, site, other_sites)
    window = f"time > now() - {WINDOW_S}s{where} {group}"
    if rule.kind == "down":
        query = f'SELECT count("up") FROM "device_status" WHERE "up" = false AND {window}'
        return query, rule.for_cycles - 0.5, "gt"
    if rule.kind == "stuck":
        field, measurement = rule.field, rule.measurement
        query = f'SELECT count("{field}") FROM "{measurement}" WHERE "{field}" = true AND {window}'
        return query, 0.5, "gt"
    limit = float(rule.sites.get(site or "", rule.value or 0.0))
    if rule.op == ">=":
        limit -= EPSILON
    elif rule.op == "<=":
        limit += EPSILON
    query = f'SELECT last("{rule.field}") FROM "{rule.measurement}" WHERE {window}'
    return query, limit, GRAFANA_OP[rule.op]


def _grafana_rule(rule: Rule, site: str | None, other_sites: Sequence[str]) -> dict[str, object]:
    query, threshold, comparison = _query(rule, site, other_sites)
    suffix = f"-{site.lower().replace(' ', '-')}" if site else ""
    expression = {"uid": "__expr__", "type": "__expr__"}
    return {
        "uid": f"edge-{rule.name.lower()}{suffix}"[:40],
        "title": rule.name + (f" ({site})" if site else ""),
        "condition": "C",
        "data": [
            {
                "refId": "A",
                "relativeTimeRange": {"from": WINDOW_S, "to": 0},
                "datasourceUid": DATASOURCE_UID,
                "model": {"refId": "A", "query": query, "rawQuery": True, "resultFormat": "time_series"},
            },
            {
                "refId": "B",
                "datasourceUid": "__expr__",
                "model": {
                    "refId": "B",
                    "type": "reduce",
                    "expression": "A",
                    "reducer": "last",
                    "datasource": expression,
                },
            },
            {
                "refId": "C",
                "datasourceUid": "__expr__",
                "model": {
                    "refId": "C",
                    "type": "threshold",
                    "expression": "B",
                    "conditions": [{"evaluator": {"type": comparison, "params": [threshold]}}],
                    "datasource": expression,
                },
            },
        ],
        "noDataState": "Alerting" if rule.kind == "down" else "OK",
        "execErrState": "Error",
        "for": f"{(rule.for_cycles - 1) * EVERY_S}s" if rule.kind == "threshold" else "0s",
        "labels": {"severity": rule.severity},
        "annotations": {"summary": rule.summary},
    }


def provisioning(rules: Sequence[Rule]) -> dict[str, object]:
    grafana_rules = []
    for rule in rules:
        if rule.kind in ("stale", "offline"):
            continue
        sites = sorted(rule.sites) if rule.kind == "threshold" else []
        grafana_rules.append(_grafana_rule(rule, None, sites))
        grafana_rules += [_grafana_rule(rule, site, []) for site in sites]
    group = {"orgId": 1, "name": "edge", "folder": "Edge", "interval": f"{EVERY_S}s", "rules": grafana_rules}
    return {"apiVersion": 1, "groups": [group]}


def provisioning_text(rules: Sequence[Rule]) -> str:
    header = "# Generated by `edge alerts export-grafana` from the bridge's alert rules; do not edit.\n"
    return header + json.dumps(provisioning(rules), indent=2, ensure_ascii=False) + "\n"
