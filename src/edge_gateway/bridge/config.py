"""The bridge's configuration (`edge bridge -c bridge.toml`): its sections, their defaults and checks.

`load_bridge` validates a file (the bridge loads the alert rules after it, at start);
`load_bridge_checked` also loads the rules file it names, in the same list of problems, for
`edge check-config`. The `[fleet]` section is defined next to its code (fleet_settings.py). The
sections are frozen dataclasses (core.config); pydantic validates them in core.validation, imported
by the loaders only. The agent's configuration is agent/config.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from annotated_types import Ge, Gt, Le

from edge_gateway.bridge.fleet_settings import FleetSection
from edge_gateway.core.config import (
    NAME_PATTERN,
    Check,
    ConfigError,
    Doc,
    MqttConnection,
    Pattern,
    Secret,
    Section,
    read_toml,
)
from edge_gateway.core.config_checks import (
    Checks,
    listen_address,
    readable_file,
    split_host_port,
    url_with,
)


def influx_api(influx: Any) -> list[str]:
    if influx.api == "v1" and not influx.database:
        return ["api v1 needs database"]
    if influx.api == "v2" and not (influx.org and influx.bucket and influx.token):
        return ["api v2 needs org, bucket and token (or token_file)"]
    return []


def _unless_none(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`check` for a key that may be left unset (None: off)."""
    return lambda value: value if value is None else check(value)


def _deprecated_listen_keys(data: dict[str, Any]) -> dict[str, Any]:
    """`listen_host` and `listen_port` (deprecated, still read: configs written before `listen`)."""
    if not {"listen_host", "listen_port"} & data.keys():
        return data
    host, port = str(data.pop("listen_host", "127.0.0.1")), data.pop("listen_port", 9465)
    data.setdefault("listen", f"{host}:{port}")
    return data


def load_bridge_checked(path: Path) -> BridgeConfig:
    """The bridge's config with its alert rules file checked too, in one ConfigError."""
    from edge_gateway.alerts.rules import load_rules

    config, problems = None, []
    try:
        config = load_bridge(path)
    except ConfigError as exc:
        problems = list(exc.problems)
    if config is not None:
        rules, enabled = config.alerts.rules_path, config.alerts.enabled
    else:
        alerts = read_toml(path).get("alerts")
        rules, enabled = (alerts.get("rules_path"), True) if isinstance(alerts, dict) else (None, False)
    if enabled and isinstance(rules, str | Path) and Path(rules).is_file():
        try:
            load_rules(Path(rules))
        except ConfigError as exc:
            problems += exc.problems
    if problems or config is None:
        raise ConfigError(problems)
    return config


@dataclass(frozen=True, kw_only=True)
class InfluxSection(Section):
    url: Annotated[str, Check(url_with(("http", "https")))] = "http://127.0.0.1:8086"
    api: Literal["v1", "v2"] = "v1"
    database: str | None = None
    retention_policy: str | None = None
    username: str | None = None
    password: Secret | None = None
    password_file: Path | None = None
    org: str | None = None
    bucket: str | None = None
    token: Secret | None = None
    token_file: Path | None = None
    timeout_s: Annotated[float, Gt(0), Le(300)] = 10.0
    gzip: bool = False

    checks = Checks(
        secrets=("password", "token"),
        check=influx_api,
        reads=("api", "database", "org", "bucket", "token", "token_file"),
    )


@dataclass(frozen=True, kw_only=True)
class BridgeMqttSection(MqttConnection):
    client_id: Annotated[str, Pattern(NAME_PATTERN)] = "edge-bridge-1"
    share_group: Annotated[str, Pattern(NAME_PATTERN)] = "edge-bridge"
    session_expiry_s: Annotated[int, Ge(0)] = 7 * 86_400
    receive_maximum: Annotated[int, Ge(1), Le(65_535)] = 1000


@dataclass(frozen=True, kw_only=True)
class BridgeSection(Section):
    dead_letter_path: Path = Path("/var/lib/edge/dead-letters.jsonl")
    dead_letter_max_bytes: Annotated[int, Ge(4096), Doc("all files, rotated")] = 64 * 2**20
    dead_letter_files: Annotated[int, Ge(2), Le(100), Doc("the current file and the rotated ones")] = 4
    dead_letter_payload_max_bytes: Annotated[int, Ge(256), Le(16 * 2**20)] = 65_536
    max_message_bytes: Annotated[int, Ge(1024), Le(256 * 2**20), Doc("also once decompressed")] = 2**20
    max_refused_requests: Annotated[int, Ge(1), Le(1000), Doc("per batch, isolating refused lines")] = 16
    quarantine_after: Annotated[int, Ge(1), Doc("messages with refused lines within the window")] = 3
    quarantine_window_s: Annotated[float, Gt(0)] = 600.0
    quarantine_s: Annotated[float, Ge(0), Doc("0: never quarantine")] = 600.0
    health_interval_s: Annotated[float, Ge(1), Le(3600)] = 10.0
    batch_max_points: Annotated[int, Ge(1), Le(1_000_000)] = 5000
    flush_interval_s: Annotated[float, Gt(0), Le(60)] = 1.0
    max_inflight_writes: Annotated[int, Ge(1), Le(16)] = 2
    retry_max_s: Annotated[float, Ge(0.1), Le(3600)] = 30.0
    listen: Annotated[
        str, Check(listen_address), Doc("host:port of /metrics and /healthz; port 0: any free one")
    ] = "127.0.0.1:9465"

    checks = Checks(before=_deprecated_listen_keys)

    @property
    def address(self) -> tuple[str, int]:
        return split_host_port(self.listen, any_port=True)


@dataclass(frozen=True, kw_only=True)
class AlertsSection(Section):
    """Alert rules evaluated on the stored stream; see docs/alerts.md."""

    enabled: bool = True
    alertmanager_url: Annotated[
        str | None, Check(_unless_none(url_with(("http", "https")))), Doc("None: alerts only go to InfluxDB")
    ] = None
    rules_path: Annotated[
        Path | None, Check(readable_file), Doc("None: the rules shipped with the bridge")
    ] = None
    evaluate_every_s: Annotated[float, Ge(1), Le(600)] = 10.0
    max_age_s: Annotated[float, Gt(0), Doc("older readings update state but never raise")] = 300.0
    open_data_listen: Annotated[
        str | None,
        Check(_unless_none(listen_address)),
        Doc("host:port of the public hotspot feed; None: off"),
    ] = None
    open_data_requests_per_minute: Annotated[int, Ge(1), Le(6000), Doc("per client address")] = 30


@dataclass(frozen=True, kw_only=True)
class BridgeConfig(Section):
    mqtt: BridgeMqttSection = field(default_factory=BridgeMqttSection)
    influxdb: InfluxSection
    bridge: BridgeSection = field(default_factory=BridgeSection)
    alerts: AlertsSection = field(default_factory=AlertsSection)
    fleet: FleetSection = field(default_factory=FleetSection)
    log_level: Literal["debug", "info", "warning", "error"] = "info"


def load_bridge(path: Path) -> BridgeConfig:
    """The file validated, with `EDGE_<SECTION>__<KEY>` variables laid over it."""
    from edge_gateway.core.validation import load_config

    return load_config(BridgeConfig, path)
