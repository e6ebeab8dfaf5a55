"""The gateway's page as a technician sees it: real agent, real headless Chromium, a screenshot."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from edge import servers
from tests.integration.helpers import wait_for

pytestmark = pytest.mark.integration

SCREENSHOT_COPY = Path("/tmp/edge-status-page.png")  # left for a person to look at


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
    driver = webdriver.Chrome(
        options=options, service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    )
    try:
        yield driver
    finally:
        driver.quit()


def test_page_shows_devices_up_and_down(
    tmp_path: Path, mosquitto: servers.Server, snmpd: servers.Server, browser: webdriver.Chrome
) -> None:
    port = servers.free_port()
    config = tmp_path / "edge.toml"
    config.write_text(
        f'[gateway]\nid = "cbn-gw-01"\n[uplink]\nurl = "{mosquitto.url}"\n'
        f'[buffer]\npath = "{tmp_path}/b.db"\n'
        f'[status]\nlisten = "127.0.0.1:{port}"\n'
        f'[[snmp.devices]]\nname = "ap-alun-alun"\nhost = "{snmpd.host}:{snmpd.port}"\ncommunity = "public"\n'
        'site = "Alun-alun Kejaksan"\ninterval_s = 1\n'
        f'[[snmp.devices]]\nname = "ap-dead"\nhost = "127.0.0.1:{servers.free_port()}"\n'
        'community = "public"\n'
        "interval_s = 1\ntimeout_s = 0.2\nretries = 0\n"
    )
    log = tmp_path / "agent.log"
    with servers.edge_process(["agent", "-c", str(config)], log):

        def page_ready() -> dict[str, str] | None:
            """One consistent reading of the page (it refreshes itself), once both devices were polled
            and the uplink, which connects on its own task, maybe after the first polls, is up."""
            try:
                browser.get(f"http://127.0.0.1:{port}/")
                rows = browser.find_elements(By.CSS_SELECTOR, "tbody tr")
                if {row.get_attribute("class") for row in rows} != {"up", "down"}:
                    return None
                if "Uplink: connected" not in browser.find_element(By.TAG_NAME, "p").text:
                    return None
                cells = [row.find_elements(By.TAG_NAME, "td") for row in rows]
                return {cell[0].text: cell[3].text for cell in cells}
            except WebDriverException:  # the agent is still starting, or the page reloaded meanwhile
                return None

        states = wait_for(page_ready, 30, "both devices and the uplink on the page", (log,))
        assert states == {"ap-alun-alun": "up", "ap-dead": "down"}
        screenshot = tmp_path / "status-page.png"
        assert browser.save_screenshot(str(screenshot))
    png = screenshot.read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 5_000
    SCREENSHOT_COPY.write_bytes(png)
