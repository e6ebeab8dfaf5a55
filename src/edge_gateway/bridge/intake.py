"""The consumer's front door: each message from a gateway turned into lines, or set aside with a reason.

Nothing read from the wire may stop the bridge: every message goes through `Intake.decode`, which
either returns its lines or dead-letters the message (as received) and returns None, so the consumer
acknowledges it and the broker never delivers it again. An error the checks did not foresee is caught
here too, logged once with its traceback, counted and dead-lettered as `unexpected`: a bug in a check
must cost one message, never the stream (a message that crashes the bridge comes back after every
restart, for ever).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import aiomqtt

from edge_gateway.bridge.accounting import Accounts
from edge_gateway.bridge.config import BridgeSection
from edge_gateway.bridge.deadletters import DeadLetters, Letter
from edge_gateway.bridge.ingest import Decoded, MessageError, decode_message, gateway_of
from edge_gateway.bridge.quarantine import Quarantine
from edge_gateway.core import wire

log = logging.getLogger(__name__)

NO_GATEWAY = "a topic with no valid gateway id"


def properties_of(message: aiomqtt.Message) -> tuple[dict[str, str], str]:
    """User properties (the last of a repeated name wins) and content type of a message."""
    props: Any = message.properties
    pairs = getattr(props, "UserProperty", None) or []
    return {str(key): str(value) for key, value in pairs}, str(getattr(props, "ContentType", "") or "")


def payload_of(message: aiomqtt.Message) -> bytes:
    payload = message.payload
    if isinstance(payload, bytes):
        return payload
    return str(payload).encode() if payload is not None else b""


class Intake:
    def __init__(
        self, conf: BridgeSection, accounts: Accounts, dead_letters: DeadLetters, quarantine: Quarantine
    ) -> None:
        self.conf = conf
        self.accounts = accounts
        self.dead_letters = dead_letters
        self.quarantine = quarantine
        self._unexpected_logged = False

    def decode(self, message: aiomqtt.Message) -> Decoded | None:
        """The message's lines, its bad lines dead-lettered; None (and dead-lettered) if unusable."""
        topic = str(message.topic)
        try:
            return self._decode(message, topic)
        except Exception as exc:  # a bug in a check: one message lost to the dead letters, not the bridge
            if not self._unexpected_logged:
                self._unexpected_logged = True
                log.exception("unexpected error on a message from %s; dead-lettered", topic[:200])
            gateway = gateway_of(topic)
            self._count_malformed(gateway)
            self._set_aside(message, "unexpected", gateway, f"{type(exc).__name__}: {exc}")
            return None

    def _decode(self, message: aiomqtt.Message, topic: str) -> Decoded | None:
        payload = payload_of(message)
        user_properties, content_type = properties_of(message)
        gateway = gateway_of(topic)
        if gateway is not None and self.quarantine.active(gateway, time.monotonic()):
            self.accounts.of(gateway).quarantined += 1
            self._set_aside(message, "quarantined", gateway, "gateway in quarantine", payload)
            return None
        try:
            decoded = decode_message(
                topic, payload, user_properties, content_type, self.conf.max_message_bytes
            )
        except MessageError as exc:
            self._count_malformed(gateway)
            self.dead_letters.log_once(gateway or NO_GATEWAY, "unusable message", str(exc))
            self._set_aside(message, exc.reason, gateway, str(exc), payload)
            return None
        if decoded.bad_lines:
            self.dead_letters.log_once(decoded.gateway, "bad line", decoded.bad_lines[0][1])
            self._lines_aside(message, decoded, "bad_line", [(r, line) for line, r in decoded.bad_lines])
        return decoded

    def refused(self, message: aiomqtt.Message, decoded: Decoded, refused: list[tuple[str, str]]) -> None:
        """Lines of a message the database refused: one record, and a step towards quarantine."""
        self.dead_letters.log_once(decoded.gateway, "line refused by InfluxDB", refused[0][0])
        self._lines_aside(message, decoded, "refused", refused)
        self.quarantine.refused(decoded.gateway, time.monotonic())

    def _count_malformed(self, gateway: str | None) -> None:
        if gateway is None:
            self.accounts.malformed_messages += 1
        else:
            self.accounts.of(gateway).malformed += 1

    def _lines_aside(
        self, message: aiomqtt.Message, decoded: Decoded, reason: str, records: list[tuple[str, str]]
    ) -> None:
        """(reason, line) records of one message as one dead letter; replayable as a message."""
        self.accounts.of(decoded.gateway).dead_letters += len(records)
        body = "".join(line + "\n" for _, line in records).encode()
        detail = records[0][0] if len(records) == 1 else f"{records[0][0]} (and {len(records) - 1} more)"
        user_properties, _ = properties_of(message)
        self.dead_letters.add(
            Letter(
                reason,
                str(message.topic),
                decoded.gateway,
                detail,
                body,
                lines=len(records),
                user_properties=tuple(user_properties.items()),
            )
        )

    def _set_aside(
        self,
        message: aiomqtt.Message,
        reason: str,
        gateway: str | None,
        detail: str,
        payload: bytes | None = None,
    ) -> None:
        """The whole message as received (a gzip body stays compressed) as one dead letter."""
        user_properties, content_type = properties_of(message)
        self.dead_letters.add(
            Letter(
                reason,
                str(message.topic),
                gateway or "",
                detail,
                payload_of(message) if payload is None else payload,
                content_type=content_type,
                user_properties=tuple(user_properties.items()),
                as_received_gzip=content_type == wire.CONTENT_TYPE_GZIP,
            )
        )
