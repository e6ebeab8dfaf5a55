"""The NOC's fleet view: one row per gateway with what is wrong, expected ones never seen, sorting,
forged statuses shown as unreadable, and the page rendering them."""

from __future__ import annotations

from typing import Any

import pytest

from edge_gateway.bridge.fleet import fleet_rows, matching, parse_status
from edge_gateway.bridge.fleet_page import render_html, sorted_rows

pytestmark = pytest.mark.fleet
NOW_S = 1_800_000_000.0


def healthy(time_s: float = NOW_S - 5) -> dict[str, Any]:
    return {
        "state": "online",
        "time_s": time_s,
        "version": "0.1.0",
        "config_version": 3,
        "config_outcome": "applied version 3",
        "devices": {"snmp": {"up": 4}},
        "buffer_oldest_s": 1.0,
        "disk_free_bytes": 2**30,
    }


def test_rows_say_what_is_wrong_and_list_the_never_seen() -> None:
    statuses: dict[str, dict[str, Any]] = {
        "gw-a": healthy(),
        "gw-b": healthy() | {"config_outcome": "rolled back: broker not reached within 120 s"},
        "gw-c": healthy() | {"devices": {"snmp": {"up": 2, "down": 2}}, "disk_free_bytes": 10},
        "gw-d": {"state": "offline", "time_s": NOW_S - 900},
        "gw-e": healthy(time_s=NOW_S - 4000),
        "gw-f": {"state": "online", "time_s": "yesterday"},  # forged or broken
    }
    rows = {row.gateway: row for row in fleet_rows(statuses, ["gw-a", "gw-z"], NOW_S, 300)}
    assert rows["gw-a"].problems == []
    assert rows["gw-b"].problems == ["config rolled back: broker not reached within 120 s"]
    assert rows["gw-c"].problems == ["disk free 0 MiB", "2 devices down"]
    assert rows["gw-d"].problems == ["offline"]
    assert rows["gw-e"].problems == ["silent: no status refresh"]
    assert rows["gw-f"].state == "unreadable"
    assert rows["gw-z"].state == "never seen" and rows["gw-z"].last_seen_s is None
    by_silence = [row.gateway for row in sorted_rows(list(rows.values()), "last_seen")]
    assert by_silence[:2] == ["gw-f", "gw-z"] and by_silence[2] == "gw-e"
    page = render_html(sorted_rows(list(rows.values()), "problems"), NOW_S)
    assert "7 gateways, 6 with something wrong" in page and "never reported" in page


def test_status_messages_are_bounded_and_checked() -> None:
    assert parse_status("edge/gw-a/status", b"x" * 70_000)[1]["state"] == "unreadable"
    assert parse_status("edge/gw-a/status", b"not json")[1]["state"] == "unreadable"
    assert parse_status("edge/gw-a/status", b"[" * 60_000)[1]["state"] == "unreadable"  # RecursionError
    assert parse_status("edge/gw-a/status", b'{"state": "online"}') == ("gw-a", {"state": "online"})
    assert parse_status("edge/status", b"{}")[0] is None


def test_a_pattern_picks_known_gateways() -> None:
    assert matching("cbn-*", ["cbn-1", "cbn-2", "jkt-1"]) == ["cbn-1", "cbn-2"]
    assert matching("cbn-1", ["cbn-1", "cbn-10"]) == ["cbn-1"]
