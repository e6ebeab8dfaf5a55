"""The city report as a person opens it: a real InfluxDB holding an hour of a small city, the real
`edge report` command, the page in real headless Chromium (screenshot, no console error, no request),
and its figures against the ones computed here from the data written."""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request
import zoneinfo
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from edge_gateway.core.lineproto import encode_many
from edge_gateway.core.model import Reading
from edge_gateway.noc.report import ispu_band
from edge_gateway_dev import servers
from tests.dashboards.fleet_data import city_readings

pytestmark = pytest.mark.integration

ARTIFACTS = Path(os.environ.get("EDGE_TEST_ARTIFACTS", "/tmp/edge-test-artifacts")) / "city-report"
WIB = zoneinfo.ZoneInfo("Asia/Jakarta")
END = datetime.datetime(2026, 12, 1, 10, 30, tzinfo=WIB)  # the hour of data ends here: a fixed input


def _post(url: str, path: str, params: dict[str, str], body: bytes) -> None:
    request = urllib.request.Request(
        f"{url}{path}?{urllib.parse.urlencode(params)}", data=body, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert 200 <= response.status < 300


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--window-size=1280,2400",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(
        options=options, service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    )
    try:
        yield driver
    finally:
        driver.quit()


def _expected(readings: list[Reading]) -> dict[str, dict[str, str]]:
    """The page's key figures, computed from the readings themselves."""
    clients = {r.tags["client"] for r in readings if r.measurement == "ap_client"}
    lanes: dict[tuple[str, str, str], int] = defaultdict(int)
    pm25: dict[str, list[float]] = defaultdict(list)
    for r in readings:
        if r.measurement == "traffic" and r.tags.get("primary") != "false":  # the loop beside a radar
            lanes[(r.tags["site"], r.tags["lane"], r.tags["sensor"])] += int(r.fields["volume"])
        if r.measurement == "air_quality":
            pm25[r.tags["site"]].append(float(r.fields["pm25"]))
    vehicles: dict[str, int] = defaultdict(int)
    for (site, _, _), volume in lanes.items():  # one sensor per lane in this data
        vehicles[site] += volume
    means = {site: sum(values) / len(values) for site, values in pm25.items()}
    return {
        "clients": {str(END.date()): str(len(clients))},
        "vehicles": {site: str(volume) for site, volume in vehicles.items()},
        "pm25": {site: f"{mean:.1f}" for site, mean in means.items()},
        "band": {site: ispu_band(mean) for site, mean in means.items()},
    }


def _cells(browser: webdriver.Chrome, table: str, key: str, cell: str) -> dict[str, str]:
    rows = browser.find_elements(By.CSS_SELECTOR, f"#{table} tr[data-{key}]")
    return {
        str(row.get_attribute(f"data-{key}")): row.find_element(By.CSS_SELECTOR, cell).text for row in rows
    }


def test_report_opens_offline_with_the_figures_of_the_data(tmp_path: Path, browser: webdriver.Chrome) -> None:
    readings = city_readings(int(END.timestamp()) * 10**9)
    with servers.influxdb(tmp_path / "influxdb") as influx:
        _post(influx.url, "/query", {"q": "CREATE DATABASE edge"}, b"")
        _post(
            influx.url, "/write", {"db": "edge", "precision": "ns"}, "\n".join(encode_many(readings)).encode()
        )
        out = tmp_path / "report.html"
        command = [
            sys.executable, "-m", "edge_gateway", "report", "--influx-url", influx.url, "--database", "edge",
            "--from", (END - datetime.timedelta(hours=1)).isoformat(),
            "--to", (END + datetime.timedelta(minutes=1)).isoformat(), "--out", str(out),
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
        bridge_toml = tmp_path / "bridge.toml"  # the same InfluxDB, named by the bridge's config
        bridge_toml.write_text(
            '[mqtt]\nurl = "mqtt://127.0.0.1:1"\n'
            f'[influxdb]\nurl = "{influx.url}"\napi = "v1"\ndatabase = "edge"\n'
        )
        via_config = tmp_path / "via-config.html"
        command[4:8] = ["-c", str(bridge_toml)]
        command[-1] = str(via_config)
        again = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        assert again.returncode == 0, again.stdout + again.stderr
    page = out.read_text()
    tables = page[page.index('<table id="availability"') :]
    assert tables.split("<img")[0] in via_config.read_text()  # the same figures
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in page

    browser.get(out.as_uri())
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "report.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.read_bytes().startswith(b"\x89PNG")
    print(f"screenshot: {screenshot}")

    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]  # type: ignore[no-untyped-call]
    assert errors == []
    requested = []
    for entry in browser.get_log("performance"):  # type: ignore[no-untyped-call]
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            requested.append(message["params"]["request"]["url"])
    assert [url for url in requested if url.startswith(("http:", "https:", "ws:", "wss:"))] == []

    expected = _expected(readings)
    assert _cells(browser, "clients", "day", "td.clients") == expected["clients"]
    assert _cells(browser, "traffic", "site", "td.vehicles") == expected["vehicles"]
    assert _cells(browser, "air", "site", "td.pm25") == expected["pm25"]
    assert _cells(browser, "air", "site", "td.band") == expected["band"]
    availability = _cells(browser, "availability", "site", "td.up")
    assert availability["site-1"] == "97.5"  # as stored in `availability`
    # Computed from device_status: each poll (a minute apart) stands for the minute after it, and the
    # period holds exactly the data's 61 minutes, so up % = up polls / polls of the site's devices.
    for site in ("int-01-1", "int-01-2"):
        polls = [
            r.fields["up"] for r in readings if r.measurement == "device_status" and r.tags["site"] == site
        ]
        assert availability[site] == f"{100 * sum(1 for up in polls if up is True) / len(polls):.1f}"
    assert availability["int-01-2"] != "100.0"  # its sound sensor went stale
    assert len(browser.find_elements(By.CSS_SELECTOR, "#map g.site")) == len(availability)
    incidents = browser.find_element(By.ID, "incidents").text
    assert incidents.count("APDown") == 2 and "ap-01-3" in incidents and "ap-02-3" in incidents
    assert incidents.count("APLate") == 1  # fired and resolved within the hour
    images = browser.find_elements(By.TAG_NAME, "img")
    assert images and all(browser.execute_script("return arguments[0].naturalWidth", i) > 0 for i in images)
