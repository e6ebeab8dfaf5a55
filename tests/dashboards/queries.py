"""Walk the generated dashboard JSON for its queries, and take an InfluxQL query apart enough to
check which measurements, tags and fields it names and to fill in Grafana's macros."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_FROM = re.compile(r'\bFROM\s+"([^"]+)"', re.IGNORECASE)
_ALIAS = re.compile(r'\bAS\s+"?(\w+)"?', re.IGNORECASE)
_IDENT = re.compile(r'"([^"]+)"')
_VARIABLE = re.compile(r"\$(\w+)")
_REGEX_SPECIAL = re.compile(r"([\\^$.|?*+()\[\]{}/-])")

TIME_FILTER = "time > now() - 3h"
INTERVAL = "1m"
# Dashboard settings (`custom` variables) when a test does not choose: the widest "up" window, so an
# hour of data written at the start of a long test module still counts as recent at its end.
CHOICES = {"up_window": "15m"}


@dataclass(frozen=True)
class Query:
    """One query of a dashboard, with where it came from (for test ids and messages)."""

    dashboard: str
    where: str
    text: str
    alias: str = ""

    @property
    def id(self) -> str:
        return f"{self.dashboard}:{self.where}"


def panel_queries(dashboard: dict[str, Any]) -> list[Query]:
    uid = str(dashboard["uid"])
    return [
        Query(uid, f"panel{panel['id']}-{target['refId']}", target["query"], target.get("alias", ""))
        for panel in dashboard["panels"]
        for target in panel["targets"]
    ]


def variable_queries(dashboard: dict[str, Any]) -> list[Query]:
    """The variables filled by a query (a `custom` one is a fixed list, see CHOICES)."""
    return [
        Query(str(dashboard["uid"]), f"var-{v['name']}", v["query"])
        for v in dashboard["templating"]["list"]
        if v["type"] == "query"
    ]


def references(query: str) -> tuple[set[str], set[str]]:
    """The measurements a query reads (`FROM "m"`) and the other names it quotes, aliases removed."""
    measurements = set(_FROM.findall(query))
    aliases = set(_ALIAS.findall(query))
    without_aliases = _ALIAS.sub("", query)
    names = set(_IDENT.findall(without_aliases)) - measurements - aliases
    return measurements, names


def alias_tags(alias: str) -> set[str]:
    """Tags an alias pattern shows (`$tag_radio` → radio)."""
    return {name.removeprefix("tag_") for name in _VARIABLE.findall(alias) if name.startswith("tag_")}


def regex_escape(value: str) -> str:
    """As Grafana escapes a single variable value inside an InfluxQL regex `/^$var$/`."""
    return _REGEX_SPECIAL.sub(r"\\\1", value)


def substitute(query: str, values: dict[str, str]) -> str:
    """Grafana's macros replaced by a fixed range and interval, variables by (escaped) values."""
    text = query.replace("$timeFilter", TIME_FILTER).replace("$__interval", INTERVAL)
    for name, value in CHOICES.items():
        text = text.replace(f"${name}", values.get(name, value))  # a duration, not a regex
    for name in sorted(values, key=len, reverse=True):
        text = text.replace(f"${name}", regex_escape(values[name]))
    leftover = _VARIABLE.findall(text)
    if leftover:
        raise AssertionError(f"unsubstituted variables {leftover} in {query}")
    return text
