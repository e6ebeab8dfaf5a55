"""The gateway's checks of a probe request, each refusal by reason, before anything is polled."""

from __future__ import annotations

import asyncio
import json
import time
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_gateway.agent.remote_probe import MAX_AHEAD_S, MAX_REQUEST_BYTES, ProbeDesk
from edge_gateway.bridge.fleet_probe import sign_probe

pytestmark = pytest.mark.fleet
KEY = Ed25519PrivateKey.generate()


def desk() -> ProbeDesk:
    config = SimpleNamespace(
        gateway=SimpleNamespace(id="gw-1"), snmp=SimpleNamespace(devices=[SimpleNamespace(name="ap-1")])
    )
    agent: Any = SimpleNamespace(config=config)
    return ProbeDesk(agent, KEY.public_key())


def answer(probes: ProbeDesk, payload: bytes) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(asyncio.run(probes.answer(payload)))
    return result


def test_each_bad_request_is_refused_by_reason_and_counted() -> None:
    now_s, probes = time.time(), desk()
    bad = {
        "oversized": sign_probe(KEY, "gw-1", "ap-1", now_s + 60) + b" " * MAX_REQUEST_BYTES,
        "malformed": sign_probe(KEY, "gw-1", "ap-1", now_s + 60)[:50],
        "signature": sign_probe(Ed25519PrivateKey.generate(), "gw-1", "ap-1", now_s + 60),
        "target": sign_probe(KEY, "gw-2", "ap-1", now_s + 60),
        "expired": sign_probe(KEY, "gw-1", "ap-1", now_s - 1),
        "unknown device": sign_probe(KEY, "gw-1", "10.0.0.1", now_s + 60),
    }
    for reason, payload in bad.items():
        said = answer(probes, payload)
        assert said["ok"] is False and said["refused"] == reason, (reason, said)
    too_far = answer(probes, sign_probe(KEY, "gw-1", "ap-1", now_s + MAX_AHEAD_S + 60))
    assert too_far["refused"] == "expired"
    assert probes.refused == dict.fromkeys(bad, 1) | {"expired": 2}


def test_busy_while_a_probe_runs() -> None:
    probes = desk()
    probes.busy = True
    said = answer(probes, sign_probe(KEY, "gw-1", "ap-1", time.time() + 60))
    assert said == {"ok": False, "refused": "busy", "error": "a probe is already running on this gateway"}
