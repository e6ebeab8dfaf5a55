"""The gateway's end of `edge fleet probe`: one poll of one of its configured devices, asked by the NOC.

The request comes on `edge/{id}/probe/request` (MQTT 5, with a response topic and correlation data)
and is signed like a remote config with the NOC's key: only the NOC may make a gateway poll something,
and only a device the gateway already polls, so a probe can never reach a host the config does not
name. Bounded: requests of at most `MAX_REQUEST_BYTES`, an expiry time in the signed body (no replay
after it, none more than `MAX_AHEAD_S` ahead), one probe at a time (the next is refused as busy, not
queued), and `DEADLINE_S` for the poll. docs/fleet.md has the format.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import TYPE_CHECKING, Any

from edge_gateway.agent.remote_config import _decode
from edge_gateway.core.lineproto import encode_many

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from edge_gateway.agent.agent import Agent

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 4096
MAX_AHEAD_S = 300.0
DEADLINE_S = 30.0
KIND = "probe"


class ProbeDesk:
    """Answers probe requests for one agent; `answer` never raises, it says what went wrong."""

    def __init__(self, agent: Agent, key: Ed25519PublicKey) -> None:
        self.agent, self.key = agent, key
        self.busy = False
        self.refused: dict[str, int] = {}

    def _refuse(self, reason: str, detail: str) -> dict[str, Any]:
        self.refused[reason] = self.refused.get(reason, 0) + 1
        if self.refused[reason] == 1:  # once per reason: a flood of bad requests does not flood the log
            log.warning("probe request refused (%s; further ones counted, not logged): %s", reason, detail)
        return {"ok": False, "refused": reason, "error": detail}

    def _check(self, payload: bytes, now_s: float) -> tuple[str | None, dict[str, Any] | None]:
        """The device to probe, or the refusal."""
        if len(payload) > MAX_REQUEST_BYTES:
            return None, self._refuse("oversized", f"request of {len(payload)} bytes")
        body, refused = _decode(payload, self.key)
        if refused is not None or body is None:
            reason = refused.reason if refused is not None else "malformed"
            return None, self._refuse(reason, "; ".join(refused.problems) if refused else reason)
        if body.get("kind") != KIND or body.get("target") != self.agent.config.gateway.id:
            return None, self._refuse("target", "not a probe request for this gateway")
        expires_s = body.get("expires_s")
        if not isinstance(expires_s, int | float) or not now_s <= expires_s <= now_s + MAX_AHEAD_S:
            return None, self._refuse("expired", "the request has expired or expires too far ahead")
        device = str(body.get("device", ""))
        if device not in {d.name for d in self.agent.config.snmp.devices}:
            return None, self._refuse("unknown device", f"no SNMP device named {device!r} in this config")
        return device, None

    async def answer(self, payload: bytes) -> bytes:
        device, refusal = self._check(payload, time.time())
        if refusal is None and self.busy:
            refusal = self._refuse("busy", "a probe is already running on this gateway")
        if refusal is not None or device is None:
            return json.dumps(refusal).encode()
        self.busy = True
        try:
            async with asyncio.timeout(DEADLINE_S):
                answer = await self._probe(device)
        except TimeoutError:
            answer = {"ok": False, "device": device, "error": f"no answer within {DEADLINE_S:g} s"}
        finally:
            self.busy = False
        return json.dumps(answer).encode()

    async def _probe(self, device: str) -> dict[str, Any]:
        from edge_gateway.agent.collectors.snmp.probe import probe

        section = self.agent.config.snmp
        one = section.model_copy(update={"devices": [d for d in section.devices if d.name == device]})
        readings, up, diagnosis = await probe(one, 0)
        lines = encode_many(readings)
        return {"ok": True, "device": device, "up": up, "diagnosis": diagnosis, "readings": lines}
