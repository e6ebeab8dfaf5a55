"""A SUBACK failure code is a failed connection, not a bridge that hears nothing (aiomqtt only returns
the codes). Mosquitto 2.0's acl_file grants any subscription (it filters at delivery), so the refusal
is played by a fake at the protocol seam; the dynamic-security plugin answers 0x87 the same way."""

from __future__ import annotations

from typing import Any

import aiomqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from edge_gateway.bridge.consumer import _subscribe


class FakeClient:
    def __init__(self, codes: list[Any]) -> None:
        self.codes = codes
        self.topics: list[str] = []

    async def subscribe(self, topic: str, qos: int) -> list[Any]:
        self.topics.append(topic)
        return self.codes


async def test_a_granted_subscription_passes() -> None:
    client = FakeClient([ReasonCode(PacketTypes.SUBACK, "Granted QoS 1")])
    await _subscribe(client, "$share/g/edge/+/data")  # type: ignore[arg-type]
    assert client.topics == ["$share/g/edge/+/data"]


@pytest.mark.parametrize("code", [ReasonCode(PacketTypes.SUBACK, "Not authorized"), 0x80])
async def test_a_refused_subscription_raises(code: Any) -> None:
    with pytest.raises(aiomqtt.MqttError, match="refused the subscription"):
        await _subscribe(FakeClient([code]), "$share/g/edge/+/data")  # type: ignore[arg-type]
