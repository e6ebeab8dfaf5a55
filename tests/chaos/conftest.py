"""Fixtures of the chaos suite: one simulated fleet for all scenarios, a whole pipeline per scenario."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from edge_gateway_dev import servers
from tests.chaos.pipeline import GATEWAY, REPORT

FLEET_OPTIONS = ["--aps", "4", "--intersections", "1", "--interval-s", "1", "--gateway-id", GATEWAY]


@pytest.fixture(scope="session")
def fleet_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The agent config `edge sim fleet` writes, with placeholders for each scenario's broker and buffer."""
    folder = tmp_path_factory.mktemp("fleet")
    config = folder / "edge.toml"
    options = [*FLEET_OPTIONS, "--broker-url", "mqtt://PLACEHOLDER-BROKER"]
    options += ["--buffer-path", "/PLACEHOLDER/buffer.db", "--port-dir", str(folder / "ports")]
    with servers.fleet_process(config, options, folder / "fleet.log"):
        yield config.read_text()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The figures of every scenario that ran, together, as docs/reliability.md shows them."""
    if REPORT:
        terminalreporter.section("chaos: readings accepted by the agent against points in InfluxDB")
        for line in REPORT:
            terminalreporter.write_line(line)
