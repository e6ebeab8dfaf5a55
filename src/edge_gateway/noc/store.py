"""Where the NOC's tools read and write: InfluxDB 1.x (URL, database and login) and Alertmanager, given
on the command line or, with `-c`, taken from the bridge's own config (and its EDGE_* environment), so
the timed jobs and the city report need no addresses or passwords of their own. One reading for every
tool: `edge dashboards availability|maintenance` and `edge report`.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_store_options(parser: argparse.ArgumentParser) -> None:
    """`-c bridge.toml`, or `--influx-url` and `--database` (an InfluxDB without authentication)."""
    parser.add_argument(
        "-c", "--config", type=Path, help="take the URLs and database from this bridge config instead"
    )
    parser.add_argument("--influx-url", default="http://127.0.0.1:8086", help="InfluxDB 1.x base URL")
    parser.add_argument("--database", default="edge")
    parser.set_defaults(authorization=None)


def from_bridge_config(args: argparse.Namespace) -> str | None:
    """With `-c`, take InfluxDB's URL and database and Alertmanager's URL from the bridge's config
    (and its EDGE_* environment), so the timers need no addresses of their own; a problem, or None."""
    if args.config is None:
        return None
    from edge_gateway.bridge.config import load_bridge
    from edge_gateway.core.config import ConfigError

    try:
        config = load_bridge(args.config)
    except ConfigError as exc:
        return f"{args.config}: {exc}"
    if config.influxdb.api != "v1" or config.influxdb.database is None:
        return f"{args.config}: the boards and the report read InfluxDB 1.x (InfluxQL), not a v2 bucket"
    args.influx_url, args.database = config.influxdb.url, config.influxdb.database
    if config.influxdb.username:
        from edge_gateway.bridge.influx import basic_auth

        password = config.influxdb.password
        args.authorization = basic_auth(
            config.influxdb.username, password.get_secret_value() if password else ""
        )
    if "alertmanager_url" in args and config.alerts.alertmanager_url is not None:
        args.alertmanager_url = config.alerts.alertmanager_url
    return None
