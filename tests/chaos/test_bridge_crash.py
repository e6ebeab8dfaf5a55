"""The bridge dies without warning: mid-batch, while catching up, and one of two sharing the stream.

A bridge acknowledges a message to the broker only once its points are stored, so what a killed
bridge held is sent again by the broker when the bridge's session resumes (same client id).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.chaos.pipeline import Pipeline, outage_s, pipeline
from tests.integration.helpers import wait_for

pytestmark = [pytest.mark.chaos, pytest.mark.integration]

SLOW_WRITE_S = 0.5  # InfluxDB made slow by the proxy, so that a kill lands while a batch is written


def kill_mid_batch(pipe: Pipeline, index: int = 1) -> None:
    """`kill -9` bridge `index` while a write to InfluxDB is under way (its messages unacknowledged)."""
    proxy = pipe.influx_proxy
    proxy.hold_s = SLOW_WRITE_S
    wait_for(lambda: proxy.writes_in_progress > 0, 30, "a write under way", pipe.logs())
    pipe.bridges[index - 1].kill()
    proxy.hold_s = 0.0


def test_bridge_kill_9_mid_batch_and_during_catch_up(tmp_path: Path, fleet_config: str) -> None:
    down_s = outage_s(5.0)
    with pipeline(tmp_path, fleet_config) as pipe:
        bridge = pipe.bridges[0]
        kill_mid_batch(pipe)
        time.sleep(down_s)  # the broker keeps what arrives for the bridge's session meanwhile
        bridge.start()
        kill_mid_batch(pipe)  # catching up on the backlog the broker kept
        bridge.start()
        pipe.account("bridge_kill9_mid_batch_and_catch_up", time.monotonic(), extra=f"down_s={down_s:g}")


def test_two_bridges_sharing_the_stream_one_killed(tmp_path: Path, fleet_config: str) -> None:
    down_s = outage_s(5.0)
    with pipeline(tmp_path, fleet_config, bridges=2) as pipe:
        kill_mid_batch(pipe, index=2)
        time.sleep(down_s)  # bridge-1 alone; what the broker had given bridge-2 waits in its session
        pipe.bridges[1].start()
        pipe.account("two_bridges_one_kill9", time.monotonic(), extra=f"down_s={down_s:g}")
