from __future__ import annotations

from pathlib import Path

import aiohttp

from edge_gateway.bridge import web
from edge_gateway.bridge.accounting import Accounts
from edge_gateway.bridge.deadletters import DeadLetters, Letter, Limits
from edge_gateway.bridge.store import StoreStats


def status(connected: list[bool], tmp_path: Path) -> web.Status:
    letters = DeadLetters(tmp_path / "dead.jsonl", Limits(2**20, 2, 1024))
    letters.add(Letter("too_large", "edge/g1/data", "g1", "over the limit", b"x" * 2000))
    accounts = Accounts()
    accounts.of("g1").record(1, points=40, newest_time_ns=1_000_000_000, now_ns=3_000_000_000)
    accounts.of("g1").record(3, points=2, newest_time_ns=0)
    accounts.of('we"ird').dead_letters = 2
    accounts.malformed_messages = 5
    stats = StoreStats(requests=9, points=42)
    return web.Status("b1", accounts, stats, lambda: connected[0], lambda: 17, letters, lambda: ["g2"])


def test_metrics_in_prometheus_text_format(tmp_path: Path) -> None:
    text = web.render_metrics(status([True], tmp_path))
    lines = text.splitlines()
    assert 'edge_bridge_points_total{gateway="g1"} 42' in lines
    assert 'edge_bridge_seq_gaps{gateway="g1"} 1' in lines
    assert 'edge_bridge_lag_seconds{gateway="g1"} 2' in lines
    assert 'edge_bridge_dead_letters_total{gateway="we\\"ird"} 2' in lines
    assert "edge_bridge_unattributed_messages_total 5" in lines
    assert "edge_bridge_pending_points 17" in lines
    assert "edge_bridge_write_requests_total 9" in lines
    assert 'edge_bridge_dead_letter_records_total{gateway="g1",reason="too_large"} 1' in lines
    assert 'edge_bridge_quarantined{gateway="g2"} 1' in lines
    assert "# TYPE edge_bridge_points_total counter" in lines
    assert "# TYPE edge_bridge_lag_seconds gauge" in lines
    samples = [line for line in lines if not line.startswith("#")]
    assert all(len(line.rsplit(" ", 1)) == 2 for line in samples)


async def test_healthz_follows_broker_and_database(tmp_path: Path) -> None:
    connected = [False]
    state = status(connected, tmp_path)
    runner, port = await web.start(state, "127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as session:

            async def healthz() -> int:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    return response.status

            assert await healthz() == 503  # not connected
            connected[0] = True
            assert await healthz() == 200  # connected, nothing written yet
            state.store.healthy = False
            assert await healthz() == 503  # the last write failed
            state.store.healthy = True
            assert await healthz() == 200
            async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
                assert response.headers["Content-Type"].startswith("text/plain")
                assert "edge_bridge_healthy 1" in await response.text()
    finally:
        await runner.cleanup()
