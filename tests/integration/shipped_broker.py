"""Mosquitto as shipped in deploy/mosquitto/: edge.conf (TLS, dynamic security plugin) with its paths
pointed at a temp folder, and the identities created by deploy/mosquitto/edge-dynsec, as an operator
would. Each identity's password is `<user>-<word>` (word "pw" unless a test needs a marker there)."""

from __future__ import annotations

import contextlib
import os
import re
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from edge_gateway_dev import servers
from tests.integration.tls import TlsFiles, make_tls_files

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto"
ADMIN_PASSWORD = "admin-pw"  # a test's own broker, never a real one
# servers.mosquitto writes the listener, persistence and queue limit itself.
_HARNESS_KEYS = ("listener", "persistence", "persistence_location", "max_queued_messages")


@dataclass(frozen=True)
class ShippedBroker:
    server: servers.Server
    tls: TlsFiles
    ctrl_env: dict[str, str]  # XDG_CONFIG_HOME with mosquitto_ctrl's options file: run edge-dynsec
    password_word: str = "pw"

    def password(self, user: str) -> str:
        return f"{user}-{self.password_word}"

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.tls.ca_cert))

    def dynsec(self, *args: str, password: str | None = None) -> None:
        """Run deploy/mosquitto/edge-dynsec ARGS against this broker, the password on its stdin."""
        subprocess.run(
            [str(DEPLOY / "edge-dynsec"), *args],
            input=f"{password}\n" if password else "",
            env=self.ctrl_env,
            text=True,
            capture_output=True,
            check=True,
        )


def shipped_config(folder: Path, tls: TlsFiles, dynsec_json: Path) -> str:
    """deploy/mosquitto/edge.conf with the paths of this test and the plugin where Debian put it."""
    plugin = next(Path("/usr/lib").glob("*/mosquitto_dynamic_security.so"))
    paths = {
        "cafile": tls.ca_cert,
        "certfile": tls.server_cert,
        "keyfile": tls.server_key,
        "plugin": plugin,
        "plugin_opt_config_file": dynsec_json,
    }
    lines = []
    for line in (DEPLOY / "edge.conf").read_text().splitlines():
        key = line.split(" ", 1)[0]
        if not line or line.startswith("#") or key in _HARNESS_KEYS:
            continue
        lines.append(f"{key} {paths[key]}" if key in paths else line)
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def shipped_broker(
    folder: Path, gateways: tuple[str, ...], bridges: tuple[str, ...], password_word: str = "pw"
) -> Iterator[ShippedBroker]:
    tls = make_tls_files(folder / "certs")
    dynsec_json = folder / "dynamic-security.json"
    subprocess.run(
        ["mosquitto_ctrl", "dynsec", "init", str(dynsec_json), "admin", ADMIN_PASSWORD],
        check=True,
        capture_output=True,
    )
    config = shipped_config(folder, tls, dynsec_json)
    assert re.search(r"^allow_anonymous false$", config, re.MULTILINE)
    with servers.mosquitto(folder / "mosquitto", extra_config=config) as server:
        xdg = folder / "xdg"
        xdg.mkdir()
        options = (
            f"-h {server.host}",
            f"-p {server.port}",
            f"--cafile {tls.ca_cert}",
            "-u admin",
            f"-P {ADMIN_PASSWORD}",
        )
        (xdg / "mosquitto_ctrl").write_text("\n".join(options) + "\n")
        broker = ShippedBroker(server, tls, {**os.environ, "XDG_CONFIG_HOME": str(xdg)}, password_word)
        broker.dynsec("roles")
        for user in bridges:
            broker.dynsec("add-bridge", user, password=broker.password(user))
        for user in gateways:
            broker.dynsec("add-gateway", user, password=broker.password(user))
        yield broker
