"""The alert rules as Grafana alert-rule provisioning, for sites that prefer Grafana alerting.

Grafana evaluates InfluxQL on a schedule, so what translates is what a query can say, and each query
returns a series only where the alert condition holds: nothing down is no data, and no data is OK
(`noDataState: OK`), never an alert. Thresholds are one rule per site that has its own limit plus
one for the rest; a rule on a standard's mean (`mean_over_s`) queries that mean over its window;
`down` counts the failures of its kind among each device's last `for_cycles` polls, so an AP that
answers again resolves at once; `stuck` is the collector's flag. Absence (`stale`, the gateway's
Last Will, a silent gateway) has no query and stays with the bridge's engine, which alone knows
about backfill and about gateways we cannot see. Summaries use Grafana's label templating
(`{{ $labels.device }}`), filled from the series' tags. Written as YAML with PyYAML, like the NOC's
other provisioning files (the `[noc]` extra; imported only when the file is written, so the alerts
stay importable without it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from edge_gateway.alerts.engine import SERIES_TAGS
from edge_gateway.alerts.rules import Rule, tag_values
from edge_gateway.core import schema

DATASOURCE_UID = "edge-influxdb"  # the data source of src/edge_gateway/noc/provisioning
EVERY_S = 60
WINDOW_S = 600
GRAFANA_OP = {">": "gt", ">=": "gt", "<": "lt", "<=": "lt"}
EPSILON = 1e-9  # Grafana has only strict comparisons: >= v is > v - epsilon
# Grafana's expressions' data source; copied where used, since one object twice is written as a YAML alias.
_EXPRESSION_SOURCE = {"uid": "__expr__", "type": "__expr__"}


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _where(rule: Rule, site: str | None, other_sites: Sequence[str]) -> str:
    terms = [f'"{key}" = {_quote(value)}' for key, value in sorted(rule.where.items())]
    terms += [
        f'"{key}" != {_quote(one)}'
        for key, value in sorted(rule.where_not.items())
        for one in tag_values(value)
    ]
    terms += [f'"site" = {_quote(site)}'] if site else [f'"site" != {_quote(s)}' for s in other_sites]
    return "".join(f" AND {term}" for term in terms)


def _group(tags: Sequence[str] = ("gateway", *SERIES_TAGS)) -> str:
    return "GROUP BY " + ", ".join(f'"{tag}"' for tag in tags)


def _down_query(rule: Rule, where: str) -> str:
    """The failures of the rule's kind among each device's last `for_cycles` polls."""
    last_polls = (
        f'SELECT "up", "error" FROM "{schema.DEVICE_STATUS}" WHERE time > now() - {WINDOW_S}s{where} '
        f"{_group()} ORDER BY time DESC LIMIT {rule.for_cycles}"
    )
    failed = ['"up" = false']
    failed += [f'"error" =~ /{_regex(rule.error_regex)}/'] if rule.error_regex else []
    failed += [f'"error" !~ /{_regex(rule.error_regex_not)}/'] if rule.error_regex_not else []
    outer = f"WHERE {' AND '.join(failed)} {_group()} ORDER BY time DESC"  # as the subquery's
    return f'SELECT count("up") FROM ({last_polls}) {outer}'


def _regex(pattern: str) -> str:
    return pattern.replace("/", "\\/")


def _query(rule: Rule, site: str | None, other_sites: Sequence[str]) -> tuple[str, float, str, int]:
    """InfluxQL, the threshold, the comparison and the time range for one rule (and one site)."""
    where = _where(rule, site, other_sites)
    window = f"time > now() - {WINDOW_S}s{where} {_group()}"
    if rule.kind == "down":
        return _down_query(rule, where), rule.for_cycles - 0.5, "gt", WINDOW_S
    if rule.kind == "stuck":
        field, measurement = rule.field, rule.measurement
        query = f'SELECT count("{field}") FROM "{measurement}" WHERE "{field}" = true AND {window}'
        return query, 0.5, "gt", WINDOW_S
    limit = float(rule.sites.get(site or "", rule.value or 0.0))
    if rule.op == ">=":
        limit -= EPSILON
    elif rule.op == "<=":
        limit += EPSILON
    how, range_s = ("last", WINDOW_S) if rule.mean_over_s is None else ("mean", int(rule.mean_over_s))
    query = (
        f'SELECT {how}("{rule.field}") FROM "{rule.measurement}" '
        f"WHERE time > now() - {range_s}s{where} {_group()}"
    )
    return query, limit, GRAFANA_OP[rule.op], range_s


def _summary(rule: Rule) -> str:
    """`{device}` becomes Grafana's `{{ $labels.device }}` (a sensor's tag is `sensor`)."""
    labels = {key: f"{{{{ $labels.{key} }}}}" for key in ("gateway", *SERIES_TAGS)}
    labels["device"] = "{{ or $labels.device $labels.sensor }}"
    return rule.summary.format_map(labels)


def _grafana_rule(rule: Rule, site: str | None, other_sites: Sequence[str]) -> dict[str, object]:
    query, threshold, comparison, range_s = _query(rule, site, other_sites)
    suffix = f"-{site.lower().replace(' ', '-')}" if site else ""
    return {
        "uid": f"edge-{rule.name.lower()}{suffix}"[:40],
        "title": rule.name + (f" ({site})" if site else ""),
        "condition": "C",
        "data": [
            {
                "refId": "A",
                "relativeTimeRange": {"from": range_s, "to": 0},
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
                    "datasource": _EXPRESSION_SOURCE.copy(),
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
                    "datasource": _EXPRESSION_SOURCE.copy(),
                },
            },
        ],
        "noDataState": "OK",  # every query returns only what is in the alert state
        "execErrState": "Error",
        "for": f"{(rule.for_cycles - 1) * EVERY_S}s" if rule.kind == "threshold" else "0s",
        "labels": {"severity": rule.severity},
        "annotations": {"summary": _summary(rule)},
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
    """Block YAML in the documents' key order, each query on one line, after the do-not-edit header."""
    import yaml  # the [noc] extra, needed only to write this file, not to import the alerts

    header = "# Generated by `edge alerts export-grafana` from the bridge's alert rules; do not edit.\n"
    body = yaml.safe_dump(
        provisioning(rules), sort_keys=False, default_flow_style=False, allow_unicode=True, width=math.inf
    )
    return header + body
