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
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from collectors.serial.config import SerialSection

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class ConfigError(Exception):
    """A configuration that cannot be used; `problems` lists every one as 'path: what is wrong'."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _read_secret_files(data: Any, names: tuple[str, ...]) -> Any:
    """Replace `<name>_file` by the file's stripped contents in `<name>`, so secrets stay out of TOML."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    for name in names:
        path = data.get(f"{name}_file")
        if path is None:
            continue
        if data.get(name) is not None:
            raise ValueError(f"set either {name} or {name}_file, not both")
        try:
            data[name] = Path(path).read_text().strip()
        except OSError as exc:
            raise ValueError(f"{name}_file {path}: {exc.strerror or exc}") from exc
    return data


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


def _check_mqtt_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts"):
        raise ValueError("must start with mqtt:// or mqtts://")
    if not parts.hostname:
        raise ValueError("has no host")
    _ = parts.port  # raises ValueError on a port out of range
    return url


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

    _secrets = model_validator(mode="before")(lambda data: _read_secret_files(data, ("password",)))
    _url = field_validator("url")(_check_mqtt_url)

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

    _secrets = model_validator(mode="before")(
        lambda data: _read_secret_files(data, ("community", "auth_key", "priv_key"))
    )

    @model_validator(mode="after")
    def _credentials(self) -> SnmpDevice:
        if self.version == "2c" and self.community is None:
            raise ValueError("version 2c needs community (or community_file)")
        if self.version == "3":
            if not self.user:
                raise ValueError("version 3 needs user")
            if (self.auth_protocol is None) != (self.auth_key is None):
                raise ValueError("auth_protocol and auth_key go together")
            if (self.priv_protocol is None) != (self.priv_key is None):
                raise ValueError("priv_protocol and priv_key go together")
            if self.priv_protocol and not self.auth_protocol:
                raise ValueError("privacy needs authentication (auth_protocol, auth_key)")
        return self

    @property
    def address(self) -> tuple[str, int]:
        host, _, port = self.host.rpartition(":") if self.host.count(":") == 1 else (self.host, "", "")
        return (host, int(port)) if port else (self.host, 161)

    @field_validator("host")
    @classmethod
    def _port_in_range(cls, host: str) -> str:
        if host.count(":") == 1:
            port = host.rpartition(":")[2]
            if not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"port {port!r} is not 1-65535")
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

    _secrets = model_validator(mode="before")(lambda data: _read_secret_files(data, ("client_hash_key",)))

    @model_validator(mode="after")
    def _client_key(self) -> SnmpSection:
        wanted = self.clients or any(device.clients for device in self.devices)
        if wanted and self.client_hash_key is None:
            raise ValueError("client readings need client_hash_key (or client_hash_key_file)")
        if self.client_hash_key is not None and len(self.client_hash_key.get_secret_value()) < 16:
            raise ValueError("client_hash_key needs at least 16 characters")
        return self

    @field_validator("devices")
    @classmethod
    def _unique_names(cls, devices: list[SnmpDevice]) -> list[SnmpDevice]:
        names = [device.name for device in devices]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"device names must be unique: {', '.join(duplicates)}")
        return devices


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
    listen: str = Field("127.0.0.1:9108", pattern=r"^[^:]+:[0-9]{1,5}$", description="host:port")
    token: SecretStr | None = None
    token_file: Path | None = None
    unhealthy_after_s: float = Field(300.0, gt=0)

    _secrets = model_validator(mode="before")(lambda data: _read_secret_files(data, ("token",)))

    @property
    def address(self) -> tuple[str, int]:
        host, _, port = self.listen.rpartition(":")
        return host, int(port)

    @model_validator(mode="after")
    def _token_beyond_loopback(self) -> StatusSection:
        host = self.address[0]
        if self.enabled and host not in ("127.0.0.1", "localhost", "::1") and self.token is None:
            raise ValueError(f"listening on {host} (beyond loopback) needs a token (or token_file)")
        return self


class AgentConfig(_EnvFirst):
    gateway: GatewaySection
    uplink: UplinkSection = UplinkSection()
    buffer: BufferSection = BufferSection()
    snmp: SnmpSection = SnmpSection()
    serial: SerialSection = SerialSection()
    status: StatusSection = StatusSection()
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

    _secrets = model_validator(mode="before")(lambda data: _read_secret_files(data, ("password", "token")))

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        return url

    @model_validator(mode="after")
    def _api_keys(self) -> InfluxSection:
        if self.api == "v1" and not self.database:
            raise ValueError("api v1 needs database")
        if self.api == "v2" and not (self.org and self.bucket and self.token):
            raise ValueError("api v2 needs org, bucket and token (or token_file)")
        return self


class BridgeMqttSection(MqttConnection):
    client_id: str = Field("edge-bridge-1", pattern=NAME_PATTERN)
    share_group: str = Field("edge-bridge", pattern=NAME_PATTERN)
    session_expiry_s: int = Field(7 * 86_400, ge=0)
    receive_maximum: int = Field(1000, ge=1, le=65_535)


class BridgeSection(Section):
    dead_letter_path: Path = Path("/var/lib/edge/dead-letters.jsonl")
    health_interval_s: float = Field(10.0, ge=1, le=3600)
    batch_max_points: int = Field(5000, ge=1, le=1_000_000)
    dead_letter_max_bytes: int = Field(64 * 2**20, ge=4096, description="all files, rotated")
    dead_letter_files: int = Field(4, ge=2, le=100, description="the current file and the rotated ones")
    dead_letter_payload_max_bytes: int = Field(65_536, ge=256, le=16 * 2**20)
    max_message_bytes: int = Field(2**20, ge=1024, le=256 * 2**20, description="also once decompressed")
    max_refused_requests: int = Field(16, ge=1, le=1000, description="per batch, isolating refused lines")
    quarantine_after: int = Field(3, ge=1, description="messages with refused lines within the window")
    quarantine_window_s: float = Field(600.0, gt=0)
    quarantine_s: float = Field(600.0, ge=0, description="0: never quarantine")
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


class BridgeConfig(_EnvFirst):
    mqtt: BridgeMqttSection = BridgeMqttSection()
    influxdb: InfluxSection
    bridge: BridgeSection = BridgeSection()
    alerts: AlertsSection = AlertsSection()
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
    if isinstance(value, str | int | float | bool) and not any(word in last for word in _SECRET_WORDS):
        return f"{message} (got {value!r})"
    if isinstance(value, str) and "://" in value:
        value = redact_url(value)  # a password may sit in a URL's user info
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
    if "gateway" in data or "snmp" in data or "serial" in data or "uplink" in data:
        return "agent"
    if "influxdb" in data or "mqtt" in data:
        return "bridge"
    return None
