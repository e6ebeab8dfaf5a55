"""Typed configuration of the agent and the bridge: TOML files, overridable by environment variables.

Validated once at start (`load_agent`, `load_bridge`); every problem is collected and reported by its
path (`snmp.devices[2].host: ...`) so that `edge check-config` can list them all at once. Defaults live
here and nowhere else. Any key can be set by `EDGE_<SECTION>__<KEY>` (e.g. `EDGE_UPLINK__URL`), which
wins over the file. Secrets are `SecretStr`; each can instead come from a `<name>_file`.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bridge.fleet_settings import FleetSection
from collectors.camera.config import CameraSection
from collectors.serial.config import SerialSection
from edge.config_checks import (
    checked_model,
    existing_dir,
    host_port,
    influx_api,
    port_in_range,
    readable_file,
    snmp_credentials,
    snmp_section,
    status_token,
    url_with,
)
from edge.remote_config import RemoteConfigSection

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class ConfigError(Exception):
    """A configuration that cannot be used; `problems` lists every one as 'path: what is wrong'."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def redact_url(url: str) -> str:
    """The URL with any password in it replaced by `***`, for logs and error messages."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "(an unparsable URL)"
    if not password:
        return url
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{parts.username or ''}:***@{host}").geturl()


class MqttConnection(Section):
    """How to reach the broker; shared by the agent's uplink and the bridge's consumer."""

    url: str = "mqtt://127.0.0.1:1883"
    username: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    keepalive_s: int = Field(30, ge=5, le=3600)
    connect_timeout_s: float = Field(10.0, gt=0, le=300)
    reconnect_max_s: float = Field(60.0, ge=1, le=3600)

    _checks = checked_model(secrets=("password",))
    _url = field_validator("url")(url_with(("mqtt", "mqtts")))
    _files = field_validator("ca_file", "cert_file", "key_file")(readable_file)

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (8883 if parts.scheme == "mqtts" else 1883)

    @property
    def tls(self) -> bool:
        return urlsplit(self.url).scheme == "mqtts"


class GatewaySection(Section):
    id: str = Field(pattern=NAME_PATTERN, description="also the MQTT client id and topic segment")
    site: str = ""


class UplinkSection(MqttConnection):
    batch_max_readings: int = Field(500, ge=1, le=100_000)
    max_inflight_batches: int = Field(8, ge=1, le=100)
    gzip: bool = False
    reconnect_max_s: float = Field(5.0, ge=1, le=3600, description="the agent's reconnect backoff cap")
    puback_timeout_s: float | None = Field(
        None, gt=0, le=86_400, description="None: wait for a PUBACK as long as the connection lives"
    )
    accept_no_subscribers: bool = Field(
        False, description="PUBACK 0x10 (nobody subscribed) counts as delivered: only with no consumer"
    )


class BufferSection(Section):
    path: Path = Path("/var/lib/edge/buffer.db")
    max_bytes: int = Field(512 * 1024 * 1024, ge=4096)
    on_full: Literal["drop_oldest", "drop_newest", "block"] = "drop_oldest"
    synchronous: Literal["normal", "full"] = "normal"
    live_first_after_s: float = Field(300.0, ge=0)


class SnmpDevice(Section):
    name: str = Field(pattern=NAME_PATTERN)
    host: str = Field(min_length=1, description="host or host:port")
    version: Literal["2c", "3"] = "2c"
    community: SecretStr | None = None
    community_file: Path | None = None
    user: str | None = None
    auth_protocol: Literal["sha", "md5"] | None = None
    auth_key: SecretStr | None = None
    auth_key_file: Path | None = None
    priv_protocol: Literal["aes", "des"] | None = None
    priv_key: SecretStr | None = None
    priv_key_file: Path | None = None
    profile: str = "auto"
    site: str | None = None
    interval_s: float = Field(30.0, ge=1, le=86_400)
    timeout_s: float = Field(2.0, gt=0, le=60)
    retries: int = Field(1, ge=0, le=10)
    lat: float | None = Field(None, ge=-90, le=90, description="position on the NOC map, degrees")
    lon: float | None = Field(None, ge=-180, le=180)
    deadline_s: float | None = Field(None, gt=0, le=86_400, description="None: 0.9 x interval_s")
    backend: Literal["gufo", "pysnmp"] | None = Field(None, description="None: the section's")
    clients: bool | None = Field(None, description="ap_client readings; None: the section's")
    max_rows_per_table: int | None = Field(None, ge=1, le=1_000_000, description="None: the profile's")
    max_requests_per_poll: int | None = Field(None, ge=1, le=100_000, description="None: the profile's")

    _checks = checked_model(
        secrets=("community", "auth_key", "priv_key"),
        check=snmp_credentials,
        reads=(
            *("version", "user", "auth_protocol", "priv_protocol", "community", "community_file"),
            *("auth_key", "auth_key_file", "priv_key", "priv_key_file"),
        ),
    )

    @property
    def address(self) -> tuple[str, int]:
        host, _, port = self.host.rpartition(":") if self.host.count(":") == 1 else (self.host, "", "")
        return (host, int(port)) if port else (self.host, 161)

    @field_validator("host")
    @classmethod
    def _port_in_range(cls, host: str) -> str:
        if host.count(":") == 1:
            port_in_range(host.rpartition(":")[2])
        return host


class SnmpSection(Section):
    concurrency: int = Field(32, ge=1, le=1024)
    backend: Literal["gufo", "pysnmp"] = "gufo"
    profiles_dir: Path | None = Field(None, description="more vendor profiles, *.toml")
    clients: bool = False
    client_hash_key: SecretStr | None = None
    client_hash_key_file: Path | None = None
    max_repetitions: int = Field(25, ge=1, le=200)
    max_varbinds_per_walk: int = Field(10_000, ge=10, le=1_000_000)
    down_backoff_max_s: float = Field(300.0, ge=0, le=86_400)
    devices: list[SnmpDevice] = []

    _checks = checked_model(
        secrets=("client_hash_key",),
        check=snmp_section,
        reads=("clients", "client_hash_key", "client_hash_key_file"),
    )
    _dir = field_validator("profiles_dir")(existing_dir)


class _EnvFirst(BaseSettings):
    """Environment variables win over the file's values (given as init kwargs)."""

    model_config = SettingsConfigDict(
        env_prefix="EDGE_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (env_settings, init_settings)


class StatusSection(Section):
    """The agent's own web page, /metrics and /healthz, for the technician on site and for Prometheus."""

    enabled: bool = True
    listen: str = Field("127.0.0.1:9108", description="host:port")
    token: SecretStr | None = None
    token_file: Path | None = None
    unhealthy_after_s: float = Field(300.0, gt=0)

    _checks = checked_model(
        secrets=("token",), check=status_token, reads=("enabled", "listen", "token", "token_file")
    )
    _listen = field_validator("listen")(host_port)

    @property
    def address(self) -> tuple[str, int]:
        host, _, port = self.listen.rpartition(":")
        return host, int(port)


class AgentConfig(_EnvFirst):
    gateway: GatewaySection
    uplink: UplinkSection = UplinkSection()
    buffer: BufferSection = BufferSection()
    snmp: SnmpSection = SnmpSection()
    serial: SerialSection = SerialSection()
    camera: CameraSection = CameraSection()
    status: StatusSection = StatusSection()
    remote_config: RemoteConfigSection = RemoteConfigSection()
    log_level: Literal["debug", "info", "warning", "error"] = "info"


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
    listen_host: str = "127.0.0.1"
    listen_port: int = Field(9465, ge=0, le=65_535, description="0: any free port")


class AlertsSection(Section):
    """Alert rules evaluated on the stored stream; see docs/alerts.md."""

    enabled: bool = True
    alertmanager_url: str | None = Field(None, description="None: alerts only go to InfluxDB")
    rules_path: Path | None = Field(None, description="None: the rules shipped with the bridge")
    evaluate_every_s: float = Field(10.0, ge=1, le=600)
    max_age_s: float = Field(300.0, gt=0, description="older readings update state but never raise")
    open_data_listen: str | None = Field(
        None, pattern=r"^[^:]+:[0-9]{1,5}$", description="host:port of the public hotspot feed; None: off"
    )
    open_data_requests_per_minute: int = Field(30, ge=1, le=6000, description="per client address")

    _url = field_validator("alertmanager_url")(lambda url: url and url_with(("http", "https"))(url))
    _rules = field_validator("rules_path")(readable_file)


class BridgeConfig(_EnvFirst):
    mqtt: BridgeMqttSection = BridgeMqttSection()
    influxdb: InfluxSection
    bridge: BridgeSection = BridgeSection()
    alerts: AlertsSection = AlertsSection()
    fleet: FleetSection = FleetSection()
    log_level: Literal["debug", "info", "warning", "error"] = "info"


def _where(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


_SECRET_WORDS = ("password", "community", "key", "token")


def _describe(error: dict[str, Any]) -> str:
    """The error in words; the offending value is shown only when it is a scalar and not a secret."""
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "missing (required)"
    message = str(error["msg"]).removeprefix("Value error, ")
    value, last = error.get("input"), str(error["loc"][-1]) if error["loc"] else ""
    if isinstance(value, str) and "://" in value:
        value = redact_url(value)  # a password may sit in a URL's user info
    if isinstance(value, str | int | float | bool) and not any(word in last for word in _SECRET_WORDS):
        return f"{message} (got {value!r})"
    return message


def problems_of(exc: ValidationError) -> list[str]:
    """One 'path: what is wrong' line per error, in file order."""
    return [f"{_where(tuple(err['loc']))}: {_describe(dict(err))}" for err in exc.errors()]


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror or exc}"]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from exc


def load_agent(path: Path) -> AgentConfig:
    try:
        return AgentConfig(**read_toml(path))
    except ValidationError as exc:
        raise ConfigError(problems_of(exc)) from exc


def load_bridge(path: Path) -> BridgeConfig:
    try:
        return BridgeConfig(**read_toml(path))
    except ValidationError as exc:
        raise ConfigError(problems_of(exc)) from exc


def kind_of(data: dict[str, Any]) -> Literal["agent", "bridge"] | None:
    """Which program a config file is for, from its sections."""
    if any(section in data for section in ("gateway", "snmp", "serial", "camera", "uplink")):
        return "agent"
    if "influxdb" in data or "mqtt" in data:
        return "bridge"
    return None
