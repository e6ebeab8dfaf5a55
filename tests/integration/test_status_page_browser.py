"""The gateway's page as a technician sees it: real agent, real headless Chromium, at desktop and phone
sizes, with screenshots left in a directory the test prints, and no console errors."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from edge_gateway_dev import servers
from tests.integration.helpers import wait_for

pytestmark = pytest.mark.integration

ARTIFACTS = Path(os.environ.get("EDGE_TEST_ARTIFACTS", "/tmp/edge-test-artifacts")) / "status-page"
PHONE, DESKTOP = (390, 844), (1280, 800)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,600",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(
        options=options, service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    )
    try:
        yield driver
    finally:
        driver.quit()


def console_errors(browser: webdriver.Chrome) -> list[str]:
    entries = browser.get_log("browser")  # type: ignore[no-untyped-call]
    return [entry["message"] for entry in entries if entry["level"] == "SEVERE"]


def shoot(browser: webdriver.Chrome, name: str, size: tuple[int, int]) -> Path:
    browser.set_window_size(*size)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    assert browser.save_screenshot(str(path))
    png = path.read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 5_000
    print(f"screenshot: {path}")
    return path


def test_page_shows_devices_up_and_down(
    tmp_path: Path, mosquitto: servers.Server, snmpd: servers.Server, browser: webdriver.Chrome
) -> None:
    port = servers.free_port()
    config = tmp_path / "edge.toml"
    config.write_text(
        f'[gateway]\nid = "cbn-gw-01"\n[uplink]\nurl = "{mosquitto.url}"\n'
        f'[buffer]\npath = "{tmp_path}/b.db"\n'
        f'[status]\nlisten = "127.0.0.1:{port}"\ntoken = "t0ken-for-the-test"\n'
        f'[[snmp.devices]]\nname = "ap-alun-alun"\nhost = "{snmpd.host}:{snmpd.port}"\ncommunity = "public"\n'
        'site = "Alun-alun Kejaksan"\ninterval_s = 1\n'
        f'[[snmp.devices]]\nname = "ap-dead"\nhost = "127.0.0.1:{servers.free_port(socket.SOCK_DGRAM)}"\n'
        'community = "public"\n'
        "interval_s = 1\ntimeout_s = 0.2\nretries = 0\n"
    )
    log = tmp_path / "agent.log"
    url = f"http://127.0.0.1:{port}/?token=t0ken-for-the-test"
    with servers.edge_process(["agent", "-c", str(config)], log):

        def page_ready() -> dict[str, str] | None:
            """One consistent reading of the page (it refreshes itself), once both devices were polled
            twice (rates need two polls) and the uplink, which connects on its own task, is up."""
            try:
                browser.get(url)
                rows = browser.find_elements(By.CSS_SELECTOR, "#devices tbody tr")
                if {row.get_attribute("class") for row in rows} != {"up", "down"}:
                    return None
                if "Uplink: connected" not in browser.find_element(By.ID, "health").text:
                    return None
                if "in " not in browser.find_element(By.CSS_SELECTOR, "#devices tr.up").text:
                    return None
                cells = [row.find_elements(By.TAG_NAME, "td") for row in rows]
                return {cell[0].text.split()[0]: cell[3].text.split()[0] for cell in cells}
            except WebDriverException:  # the agent is still starting, or the page reloaded meanwhile
                return None

        states = wait_for(page_ready, 30, "both devices and the uplink on the page", (log,))
        assert states == {"ap-alun-alun": "up", "ap-dead": "down"}
        up_row = browser.find_element(By.CSS_SELECTOR, "#devices tr.up").text
        assert "in " in up_row and "bit/s" in up_row and "since" in up_row  # net-snmp serves no clients
        assert f"{snmpd.host}:{snmpd.port}" in up_row  # its address
        down_row = browser.find_element(By.CSS_SELECTOR, "#devices tr.down").text
        assert "deadline exceeded" in down_row or "no response" in down_row.lower() or "Error" in down_row
        shoot(browser, "desktop", DESKTOP)

        search = browser.find_element(By.ID, "q")
        search.send_keys("dead")
        visible = [r for r in browser.find_elements(By.CSS_SELECTOR, "#devices tbody tr") if r.is_displayed()]
        assert [r.get_attribute("class") for r in visible] == ["down"]
        assert "q=dead" in str(browser.execute_script("return location.hash"))  # kept across refreshes
        search.clear()
        search.send_keys(" ")
        search.clear()
        browser.execute_script("document.getElementById('q').dispatchEvent(new Event('input'))")

        shoot(browser, "phone", PHONE)
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert int(width) <= PHONE[0]  # no sideways scrolling on a phone: rows are cards
        for link in ("metrics", "json"):
            assert "token=t0ken-for-the-test" in str(browser.find_element(By.ID, link).get_attribute("href"))
        assert console_errors(browser) == []
        browser.find_element(By.ID, "json").click()
        assert '"devices"' in browser.find_element(By.TAG_NAME, "body").text  # not 401
