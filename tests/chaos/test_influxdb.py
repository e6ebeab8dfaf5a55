"""InfluxDB away or refusing: the bridge holds the data (unacknowledged, in the broker) until it is stored."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.chaos.pipeline import outage_s, pipeline
from tests.integration.helpers import wait_for

pytestmark = [pytest.mark.chaos, pytest.mark.integration]

INJECTED_EACH = 4


def test_influxdb_stopped_then_started(tmp_path: Path, fleet_config: str) -> None:
    down_s = outage_s(5.0)
    with pipeline(tmp_path, fleet_config) as pipe:
        pipe.influx.stop()
        time.sleep(down_s)  # the outage itself is the input
        pipe.influx.start()
        pipe.account("influxdb_stopped", time.monotonic(), extra=f"outage_s={down_s:g}")


def test_influxdb_answering_500_then_429_with_retry_after(tmp_path: Path, fleet_config: str) -> None:
    with pipeline(tmp_path, fleet_config) as pipe:
        proxy = pipe.influx_proxy
        proxy.inject(500, INJECTED_EACH)
        wait_for(lambda: proxy.injected >= INJECTED_EACH, 60, "the 500 answers given", pipe.logs())
        proxy.inject(429, INJECTED_EACH, retry_after="1")
        wait_for(lambda: proxy.injected >= 2 * INJECTED_EACH, 60, "the 429 answers given", pipe.logs())
        pipe.account("influxdb_500_then_429", time.monotonic(), extra=f"injected={proxy.injected}")
