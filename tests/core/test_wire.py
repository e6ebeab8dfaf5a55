"""The wire contract's topics: what the agent builds is what the bridge parses and subscribes to."""

from __future__ import annotations

import paho.mqtt.client as paho

from edge_gateway.core import wire


def test_a_gateways_topics_parse_back_to_its_id() -> None:
    data = wire.DATA_TOPIC.match(wire.data_topic("cbn-gw-01"))
    status = wire.STATUS_TOPIC.match(wire.status_topic("cbn-gw-01"))
    assert data is not None and data["gateway"] == "cbn-gw-01"
    assert status is not None and status["gateway"] == "cbn-gw-01"
    assert wire.DATA_TOPIC.match(wire.status_topic("g1")) is None
    assert wire.DATA_TOPIC.match("edge/a/b/data") is None


def test_the_noc_subscriptions_match_every_gateways_topics() -> None:
    assert paho.topic_matches_sub(wire.ALL_DATA, wire.data_topic("g1"))
    assert paho.topic_matches_sub(wire.ALL_STATUS, wire.status_topic("g1"))
    assert not paho.topic_matches_sub(wire.ALL_DATA, wire.config_topic("g1"))
    assert wire.shared_data_subscription("bridges") == "$share/bridges/" + wire.ALL_DATA


def test_the_current_format_version_is_supported() -> None:
    assert wire.FORMAT_VERSION in wire.SUPPORTED_VERSIONS
    assert wire.ONLINE in wire.GATEWAY_STATES
