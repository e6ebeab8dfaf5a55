"""The broker restarted (with and without its persistence), frozen, and the gateway's link cut or slow.

Mosquitto 2.0 forgets shared subscriptions across a restart: until the bridge subscribes again,
nobody receives `edge/+/data`, and the broker answers the agent's publishes with PUBACK 0x10. The
agent keeps such a batch and retries, so the order in which agent and bridge come back does not matter.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from tests.chaos.pipeline import Pipeline, outage_s, pipeline
from tests.integration.helpers import wait_for

pytestmark = [pytest.mark.chaos, pytest.mark.integration]

UNDELIVERED_BEFORE_BRIDGE = 2  # PUBACK 0x10 answers the agent gets before the bridge comes back
THROTTLED_BYTES_PER_S = 40_000


def restart_broker_bridge_last(pipe: Pipeline, down_s: float, fresh: bool) -> float:
    """Broker down for `down_s` with the bridge; the broker back first, the agent publishing into it with
    no subscriber (answered 0x10, twice), and only then the bridge. Returns when the bridge was back."""
    undelivered = max(pipe.agent_metric("edge_undelivered_batches_total"), 0.0)  # -1: no answer
    if fresh:
        drop_the_gateway_until_drained(pipe)
    pipe.broker.stop()
    pipe.bridges[0].stop()
    if fresh:  # a broker that lost its state: no sessions, no queued messages
        shutil.rmtree(pipe.tmp / "mosquitto")
    time.sleep(down_s)  # the outage itself is the input
    pipe.broker.start()
    pipe.link.heal()

    def told_no_subscriber() -> bool:
        told = pipe.agent_metric("edge_undelivered_batches_total") - undelivered
        return told >= UNDELIVERED_BEFORE_BRIDGE

    wait_for(told_no_subscriber, 60, "the agent publishing to nobody (PUBACK 0x10)", pipe.logs())
    pipe.bridges[0].start()
    return time.monotonic()


def drop_the_gateway_until_drained(pipe: Pipeline) -> None:
    """What a broker acknowledged (0x00) and had not yet handed to the bridge is gone with its state, and
    the product does not promise it (docs/reliability.md). So the gateway's link drops first (a PUBACK on
    its way is lost with it: that batch stays in the agent's buffer), and the broker goes only once the
    bridge stored every reading the agent deleted on a PUBACK 0x00."""
    pipe.link.drop()
    wait_for(
        lambda: "\nedge_uplink_up 0\n" in pipe.agent_metrics(), 30, "the agent losing its link", pipe.logs()
    )
    wait_for(pipe.delivered_stored, 60, "what the broker acknowledged stored", pipe.logs())


def test_broker_restart_with_persistence_bridge_back_after_the_agent(
    tmp_path: Path, fleet_config: str
) -> None:
    down_s = outage_s(5.0)
    with pipeline(tmp_path, fleet_config) as pipe:
        back_s = restart_broker_bridge_last(pipe, down_s, fresh=False)
        wait_for(lambda: pipe.all_stored(pipe.ledger.refresh()), 60, "the backlog stored", pipe.logs())
        drain_s = time.monotonic() - back_s
        pipe.agent.kill()  # and then the gateway loses power
        pipe.agent.start()
        pipe.account(
            "broker_restart_bridge_late_then_agent_kill9",
            time.monotonic(),
            drain_s=drain_s,
            extra=f"outage_s={down_s:g}",
        )


def test_broker_restart_without_persistence(tmp_path: Path, fleet_config: str) -> None:
    """A fresh broker has no sessions and no queued messages. What the agent's buffer still holds is safe
    (it leaves only on PUBACK 0x00 with a subscriber); what the broker had acknowledged but not yet
    delivered is gone with it, so the bridge drains that before the restart (a race otherwise: a batch
    acknowledged just before the stop and not yet stored by the bridge was lost)."""
    down_s = outage_s(5.0)
    with pipeline(tmp_path, fleet_config) as pipe:
        back_s = restart_broker_bridge_last(pipe, down_s, fresh=True)
        pipe.account("fresh_broker_bridge_late", back_s, extra=f"outage_s={down_s:g}")


def test_broker_frozen_then_thawed(tmp_path: Path, fleet_config: str) -> None:
    frozen_s = outage_s(8.0)
    with pipeline(tmp_path, fleet_config) as pipe:
        with pipe.broker.frozen():
            time.sleep(frozen_s)  # SIGSTOP: connections open, nothing answered
        pipe.account("broker_sigstop", time.monotonic(), extra=f"frozen_s={frozen_s:g}")


def test_link_cut_without_fin(tmp_path: Path, fleet_config: str) -> None:
    """Long enough for the agent's keepalive (5 s) to give up on the connection: no FIN ever comes."""
    cut_s = outage_s(12.0)
    with pipeline(tmp_path, fleet_config) as pipe:
        pipe.link.cut()
        time.sleep(cut_s)
        pipe.link.heal()
        reconnects = pipe.link.connections - 1
        pipe.account("link_cut_no_fin", time.monotonic(), extra=f"cut_s={cut_s:g} reconnects={reconnects}")


def test_link_throttled_drains_a_backlog(tmp_path: Path, fleet_config: str) -> None:
    """A short cut builds a backlog; it then drains through a link of THROTTLED_BYTES_PER_S."""
    cut_s = outage_s(5.0)
    with pipeline(tmp_path, fleet_config) as pipe:
        pipe.link.cut()
        time.sleep(cut_s)
        with pipe.link.throttled(THROTTLED_BYTES_PER_S):
            pipe.link.heal()
            connections = pipe.link.connections
            pipe.account(
                "link_throttled_40KBps",
                time.monotonic(),
                extra=f"cut_s={cut_s:g} reconnects={pipe.link.connections - connections}",
            )
