"""The city report's page on figures built here: ISPU bands, escaping, offline, every section."""

from __future__ import annotations

import datetime
import zoneinfo
from html.parser import HTMLParser
from typing import Any

import pytest

from edge_gateway.alerts.thresholds import ISPU_PM25_BAND_STARTS_UG_M3
from edge_gateway.noc.report import Incident, ReportData, SiteFigures, gather, ispu_band
from edge_gateway.noc.report_charts import availability_colour, render_html

WIB = zoneinfo.ZoneInfo("Asia/Jakarta")
HOSTILE = '<script>alert(1)</script>"$\\frac{a}{b}$ &amp; <img src=http://x/y.png>'


@pytest.mark.parametrize(
    ("pm25", "band"),
    [(0.0, "Baik"), (15.5, "Baik"), (15.6, "Sedang"), (55.4, "Sedang"), (55.5, "Tidak Sehat"),
     (150.5, "Sangat Tidak Sehat"), (250.5, "Berbahaya"), (900.0, "Berbahaya")],
)  # fmt: skip
def test_ispu_band_starts_where_the_thresholds_say(pm25: float, band: str) -> None:
    assert ISPU_PM25_BAND_STARTS_UG_M3[1] == 55.5
    assert ispu_band(pm25) == band


def test_availability_colours() -> None:
    assert availability_colour(None) == "#9e9e9e"
    assert availability_colour(99.5) == "#2e7d32"
    assert availability_colour(96.0) == "#ef6c00"
    assert availability_colour(50.0) == "#c62828"


class _Tags(HTMLParser):
    """Every tag of the page and its attributes, as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def page_tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


def _data(site: str) -> ReportData:
    start = datetime.datetime(2026, 12, 1, tzinfo=WIB)
    data = ReportData(start, start + datetime.timedelta(days=2))
    data.sites = {
        site: SiteFigures(-6.70, 108.55, 97.5, 1.5, 1.0),
        "site-2": SiteFigures(-6.71, 108.56, 100.0, 0.0, 0.0, computed=True),
        "no-position": SiteFigures(None, None, None, None, None),
    }
    data.clients_per_day = {start.date(): 42, start.date() + datetime.timedelta(days=1): 7}
    data.clients_by_hour = [float(h) for h in range(24)]
    data.pm25_per_day = {(site, start.date()): 60.0, ("site-2", start.date()): 10.0}
    data.vehicles_per_site = {site: 1234, "site-2": 5}
    data.incidents = [Incident(start, None, site, "critical", site, site)]
    return data


def test_page_has_every_figure_escaped_and_nothing_to_fetch() -> None:
    page = render_html(_data(HOSTILE))
    tags = page_tags(page)
    assert "script" not in {tag for tag, _ in tags}
    links = [attrs.get(name) or "" for _, attrs in tags for name in ("src", "href")]
    assert [link for link in links if link and not link.startswith("data:")] == []
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    for table in ("availability", "clients", "air", "traffic", "incidents"):
        assert f'id="{table}"' in page
    assert '<td class="num up">97.5</td>' in page
    assert '<td class="num clients">42</td>' in page
    assert '<td class="num pm25">60.0</td>' in page
    assert ">Tidak Sehat</td>" in page and ">Baik</td>" in page
    assert '<td class="num vehicles">1234</td>' in page
    assert "computed from device_status" in page
    assert page.count('<g class="site"') == 2  # the site without a position is not drawn
    assert page.count('src="data:image/svg+xml;base64,') == 4  # availability, clients, hours, traffic


def test_empty_period_says_so() -> None:
    start = datetime.datetime(2026, 12, 1, tzinfo=WIB)
    page = render_html(ReportData(start, start + datetime.timedelta(hours=1)))
    assert "No site reported a position" in page
    assert "No PM2.5 readings" in page
    assert "No alert fired" in page
    assert "No client readings" in page


class _Influx:
    """InfluxDB's query answers for one measurement each, as its JSON gives them (the protocol seam)."""

    def __init__(self, answers: dict[str, list[dict[str, Any]]]) -> None:
        self.answers = answers

    def query(self, text: str) -> list[dict[str, Any]]:
        measurement = text.split(' FROM "')[1].split('"')[0]
        return self.answers.get(measurement, [])


def test_lanes_count_once_and_incidents_run_from_firing_to_resolved() -> None:
    start = datetime.datetime(2026, 12, 1, tzinfo=WIB)
    ns = int(start.timestamp()) * 10**9
    lane = {"site": "int-1", "lane": "1"}
    alert = {"alertname": "ApDown", "severity": "critical", "gateway": "gw-1", "device": "ap-1"}
    answers: dict[str, list[dict[str, Any]]] = {
        "traffic": [
            {"tags": {**lane, "sensor": "radar"}, "values": [[ns, 120]]},
            {"tags": {**lane, "sensor": "loop"}, "values": [[ns, 118]]},  # the same cars, again
            {"tags": {"site": "int-1", "lane": "2", "sensor": "radar"}, "values": [[ns, 30]]},
        ],
        "alerts": [
            {
                "tags": alert,
                "values": [
                    [ns + 60 * 10**9, True, "ap-1 down"],
                    [ns + 120 * 10**9, True, "ap-1 down"],
                    [ns + 180 * 10**9, False, ""],
                    [ns + 600 * 10**9, True, "again"],
                ],
            }
        ],
    }
    data = gather(_Influx(answers), start, start + datetime.timedelta(hours=1), WIB)  # type: ignore[arg-type]
    assert data.vehicles_per_site == {"int-1": 150}
    assert [(i.start.minute, i.end.minute if i.end else None, i.summary) for i in data.incidents] == [
        (1, 3, "ap-1 down"),
        (10, None, "again"),
    ]
    assert data.incidents[0].where == "gw-1 ap-1"
