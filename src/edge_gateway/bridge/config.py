"""The bridge's configuration (`edge bridge -c bridge.toml`): its sections, their defaults and checks.

`load_bridge` validates a file (the bridge loads the alert rules after it, at start);
`load_bridge_checked` also loads the rules file it names, in the same list of problems, for
`edge check-config`. The `[fleet]` section is defined next to its code (fleet_settings.py). The
settings base (environment overrides, problems listed by path) is core.config; the agent's
configuration is agent/config.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from edge_gateway.bridge.fleet_settings import FleetSection
from edge_gateway.core.config import (
    NAME_PATTERN,
    ConfigError,
    EnvFirstSettings,
    MqttConnection,
    Section,
    load_config,
    read_toml,
)
from edge_gateway.core.config_checks import (
    checked_model,
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


class InfluxSection(Section):
    url: str = "http://127.0.0.1:8086"
    api: Literal["v1", "v2"] = "v1"
    database: str | None = None
    retention_policy: str | None = None
    username: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    org: str | None = None
    bucket: str | None = None
    token: SecretStr | None = None
    token_file: Path | None = None
    timeout_s: float = Field(10.0, gt=0, le=300)
    gzip: bool = False

    _checks = checked_model(
        secrets=("password", "token"),
        check=influx_api,
        reads=("api", "database", "org", "bucket", "token", "token_file"),
    )
    _url = field_validator("url")(url_with(("http", "https")))


class BridgeMqttSection(MqttConnection):
    client_id: str = Field("edge-bridge-1", pattern=NAME_PATTERN)
    share_group: str = Field("edge-bridge", pattern=NAME_PATTERN)
    session_expiry_s: int = Field(7 * 86_400, ge=0)
    receive_maximum: int = Field(1000, ge=1, le=65_535)


class BridgeSection(Section):
    dead_letter_path: Path = Path("/var/lib/edge/dead-letters.jsonl")
    dead_letter_max_bytes: int = Field(64 * 2**20, ge=4096, description="all files, rotated")
    dead_letter_files: int = Field(4, ge=2, le=100, description="the current file and the rotated ones")
    dead_letter_payload_max_bytes: int = Field(65_536, ge=256, le=16 * 2**20)
    max_message_bytes: int = Field(2**20, ge=1024, le=256 * 2**20, description="also once decompressed")
    max_refused_requests: int = Field(16, ge=1, le=1000, description="per batch, isolating refused lines")
    quarantine_after: int = Field(3, ge=1, description="messages with refused lines within the window")
    quarantine_window_s: float = Field(600.0, gt=0)
    quarantine_s: float = Field(600.0, ge=0, description="0: never quarantine")
    health_interval_s: float = Field(10.0, ge=1, le=3600)
    batch_max_points: int = Field(5000, ge=1, le=1_000_000)
    flush_interval_s: float = Field(1.0, gt=0, le=60)
    max_inflight_writes: int = Field(2, ge=1, le=16)
    retry_max_s: float = Field(30.0, ge=0.1, le=3600)
    listen: str = Field(
        "127.0.0.1:9465", description="host:port of /metrics and /healthz; port 0: any free one"
    )

    _listen = field_validator("listen")(listen_address)

    @model_validator(mode="before")
    @classmethod
    def _deprecated_listen_keys(cls, data: Any) -> Any:
        """`listen_host` and `listen_port` (deprecated, still read: configs written before `listen`)."""
        if not isinstance(data, dict) or not {"listen_host", "listen_port"} & data.keys():
            return data
        data = dict(data)
        host, port = str(data.pop("listen_host", "127.0.0.1")), data.pop("listen_port", 9465)
        data.setdefault("listen", f"{host}:{port}")
        return data

    @property
    def address(self) -> tuple[str, int]:
        return split_host_port(self.listen, any_port=True)


class AlertsSection(Section):
    """Alert rules evaluated on the stored stream; see docs/alerts.md."""

    enabled: bool = True
    alertmanager_url: str | None = Field(None, description="None: alerts only go to InfluxDB")
    rules_path: Path | None = Field(None, description="None: the rules shipped with the bridge")
    evaluate_every_s: float = Field(10.0, ge=1, le=600)
    max_age_s: float = Field(300.0, gt=0, description="older readings update state but never raise")
    open_data_listen: str | None = Field(None, description="host:port of the public hotspot feed; None: off")
    open_data_requests_per_minute: int = Field(30, ge=1, le=6000, description="per client address")

    _url = field_validator("alertmanager_url")(lambda url: url and url_with(("http", "https"))(url))
    _rules = field_validator("rules_path")(readable_file)
    _open_data = field_validator("open_data_listen")(lambda value: value and listen_address(value))


class BridgeConfig(EnvFirstSettings):
    mqtt: BridgeMqttSection = BridgeMqttSection()
    influxdb: InfluxSection
    bridge: BridgeSection = BridgeSection()
    alerts: AlertsSection = AlertsSection()
    fleet: FleetSection = FleetSection()
    log_level: Literal["debug", "info", "warning", "error"] = "info"


def load_bridge(path: Path) -> BridgeConfig:
    return load_config(BridgeConfig, path)
