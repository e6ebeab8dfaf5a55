"""What every configuration shares: the settings base, the broker connection, the errors and TOML.

The agent (agent/config.py) and the bridge (bridge/config.py) each build their own configuration on
this base, so a gateway loads no bridge code and the NOC no agent code. Shared here: `EnvFirstSettings`
(any key can be set by `EDGE_<SECTION>__<KEY>`, e.g. `EDGE_UPLINK__URL`, which wins over the file),
`Section` (an unknown key is a problem), `MqttConnection` (the agent's uplink and the bridge's consumer),
and `ConfigError` with `problems_of`, the one formatter that reports every problem at once by its path
(`snmp.devices[2].host: ...`), so that `edge check-config` lists them all, echoing no secret. `kind_of`
tells `edge check-config` which program a file is for. Defaults live with the section that owns the
key, except `DEFAULT_SNMP_INTERVAL_S`: the NOC sizes its liveness windows on it and imports no agent
module. Checks pydantic cannot express, and secrets read from `<name>_file`, are in config_checks.py.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal, TypeVar
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

from edge_gateway.core.config_checks import (
    checked_model,
    readable_file,
    url_with,
)

DEFAULT_SNMP_INTERVAL_S = 30.0
"""An SNMP device's poll interval by default; the NOC's liveness windows are sized on it."""
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


class EnvFirstSettings(BaseSettings):
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


def _where(loc: tuple[int | str, ...], prefix: str = "") -> str:
    path = prefix
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


def problems_of(exc: ValidationError, prefix: str = "") -> list[str]:
    """One 'path: what is wrong' line per error, in file order; the one formatter of every config,
    driver option, register map, alert rule and probe argument. `prefix` is where the data sits."""
    return [f"{_where(tuple(err['loc']), prefix)}: {_describe(dict(err))}" for err in exc.errors()]


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror or exc}"]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from exc


Config = TypeVar("Config", bound=BaseModel)


def load_config(model: type[Config], path: Path) -> Config:
    """A TOML file read into a program's config model; every problem as one ConfigError."""
    try:
        return model(**read_toml(path))
    except ValidationError as exc:
        raise ConfigError(problems_of(exc)) from exc


def kind_of(data: dict[str, Any]) -> Literal["agent", "bridge"] | None:
    """Which program a config file is for, from its sections."""
    if any(section in data for section in ("gateway", "snmp", "serial", "camera", "uplink")):
        return "agent"
    if "influxdb" in data or "mqtt" in data:
        return "bridge"
    return None
