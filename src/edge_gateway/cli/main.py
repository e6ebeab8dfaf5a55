"""The `edge` command: one entry point for the agent, the bridge and the tools around them."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from edge_gateway.core.config import ConfigError, kind_of, read_toml

if TYPE_CHECKING:
    from edge_gateway.agent.config import AgentConfig

EXIT_BAD_CONFIG = 2


def _setup_logging(level: str) -> None:
    # No timestamps: journald and the terminal add their own.
    logging.basicConfig(level=level.upper(), format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def _report(exc: ConfigError, path: Path) -> int:
    print(f"{path}: {len(exc.problems)} problem(s)", file=sys.stderr)
    for problem in exc.problems:
        print(f"  {problem}", file=sys.stderr)
    return EXIT_BAD_CONFIG


def cmd_agent(args: argparse.Namespace) -> int:
    from edge_gateway.agent.agent import run_until_signalled
    from edge_gateway.agent.config_child import check_in_child

    # with its vendor profiles; pydantic in the child only; main() reports a refusal (exit 2)
    checked = check_in_child(args.config)
    _setup_logging(checked.config.log_level)
    asyncio.run(run_until_signalled(checked, args.config))
    return 0


def cmd_bridge(args: argparse.Namespace) -> int:
    from edge_gateway.alerts.rules import DEFAULT_RULES, load_rules
    from edge_gateway.bridge.config import load_bridge
    from edge_gateway.bridge.consumer import run_until_signalled

    try:
        config = load_bridge(args.config)
        rules = load_rules(config.alerts.rules_path or DEFAULT_RULES) if config.alerts.enabled else []
    except ConfigError as exc:
        return _report(exc, args.config)
    _setup_logging(config.log_level)
    asyncio.run(run_until_signalled(config, rules))
    return 0


def _inventory(agent: AgentConfig) -> str:
    """What the file makes the agent watch, so a technician sees a section that was left out."""
    buses, cameras = agent.serial.buses, agent.camera.devices
    sensors = sum(len(bus.sensors) for bus in buses)
    return (
        f"{len(agent.snmp.devices)} SNMP devices, {sensors} serial sensors on {len(buses)} buses, "
        f"{len(cameras)} cameras"
    )


def cmd_check_config(args: argparse.Namespace) -> int:
    from edge_gateway.agent.config import load_agent_checked
    from edge_gateway.bridge.config import load_bridge_checked

    try:
        kind = args.kind or kind_of(read_toml(args.file))
        if kind is None:
            raise ConfigError(
                ["(top level): cannot tell an agent config ([gateway]) from a bridge one ([influxdb])"]
            )
        if kind == "agent":
            agent = load_agent_checked(args.file)  # every problem, the vendor profiles' too
            print(f"{args.file}: ok, agent config for gateway {agent.gateway.id}, {_inventory(agent)}")
        else:
            bridge = load_bridge_checked(args.file)  # and its alert rules file
            print(
                f"{args.file}: ok, bridge config writing to {bridge.influxdb.url} (API {bridge.influxdb.api})"
            )
    except ConfigError as exc:
        return _report(exc, args.file)
    return 0


def cmd_config_schema(args: argparse.Namespace) -> int:
    from edge_gateway.agent.config import AgentConfig
    from edge_gateway.bridge.config import BridgeConfig
    from edge_gateway.core.validation import adapter

    model = AgentConfig if args.kind == "agent" else BridgeConfig
    schema = adapter(model).json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"edge {args.kind} configuration"
    print(json.dumps(schema, indent=2))
    return 0


def cmd_alerts_export_grafana(args: argparse.Namespace) -> int:
    from edge_gateway.alerts.grafana import provisioning_text
    from edge_gateway.alerts.rules import DEFAULT_RULES, load_rules

    try:
        rules = load_rules(args.rules or DEFAULT_RULES)
    except ConfigError as exc:
        return _report(exc, args.rules or DEFAULT_RULES)
    try:
        text = provisioning_text(rules)
    except ModuleNotFoundError as exc:  # PyYAML comes with the NOC's extra, not on a gateway
        if exc.name != "yaml":
            raise
        raise SystemExit(NEEDS_NOC) from exc
    if args.out:
        args.out.write_text(text)
    else:
        print(text, end="")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    try:
        from edge_gateway_dev.demo import run_demo
    except ModuleNotFoundError as exc:
        _needs_dev(exc)
        raise

    _setup_logging("warning")
    return run_demo(args.duration, args.summary_json)


def cmd_buffer(args: argparse.Namespace) -> int:
    from edge_gateway.agent.buffer_tools import BufferNotFound, dump, print_stats
    from edge_gateway.agent.config import load_agent

    try:
        path = args.path if args.path else load_agent(args.config).buffer.path
    except ConfigError as exc:
        return _report(exc, args.config)
    try:
        if args.action == "stats":
            print_stats(path, args.json)
        else:
            dump(path, args.limit)
    except BufferNotFound as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


def cmd_sim_fleet(args: argparse.Namespace) -> int:
    try:
        from edge_gateway_dev.sim.fleet import FleetArgs, serve
    except ModuleNotFoundError as exc:
        _needs_dev(exc)
        raise

    port_dir = args.port_dir or Path(tempfile.mkdtemp(prefix="edge-sim-ports-"))
    buffer_path = args.buffer_path or args.config_out.resolve().parent / "buffer.db"
    fleet = FleetArgs(
        args.aps, args.intersections, args.seed, args.faults, args.config_out, port_dir,
        args.gateway_id, args.broker_url, buffer_path, args.interval_s, args.clock, args.time_scale,
        args.cameras,
    )  # fmt: skip
    return serve(fleet)


GATEWAY_COMMANDS = ("agent", "probe", "check-config", "buffer", "config-schema")
DEV_COMMANDS = ("sim", "demo")  # need only the development package, which says so when absent
"""The gateway's own commands: their parser is built without importing the bridge or the NOC."""
NOC_COMMANDS = ("bridge", "alerts", "dashboards", "deadletters")
"""The NOC's commands: their parser is built without the agent's probes (a NOC install has no SNMP)."""
RUNNING_COMMANDS = ("agent",)
"""Long-running programs: their parser is built without the tools' parsers (top, maintenance, probes),
which would leave rich and pysnmp in the agent's memory for as long as it runs."""
NEEDS_DEV = "this command needs the edge-gateway-dev package (make setup, or pip install ./dev)"
NEEDS_NOC = "this command needs the NOC's extra: pip install 'edge-gateway[noc]'"


def _command_of(argv: list[str] | None) -> str | None:
    words = sys.argv[1:] if argv is None else argv
    return next((word for word in words if not word.startswith("-")), None)


def _needs_dev(exc: ModuleNotFoundError) -> None:
    """A clear exit when the development package (simulators, demo) is not installed."""
    if (exc.name or "").split(".")[0] == "edge_gateway_dev":
        raise SystemExit(NEEDS_DEV) from exc


def _add_noc_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The NOC's board and report commands; a gateway-only install lacks their extra (`[noc]`), and
    its `edge --help` lists the other commands instead of failing on the missing library."""
    try:
        from edge_gateway.noc.cli import add_dashboards_parser
        from edge_gateway.noc.report import add_report_parser
    except ModuleNotFoundError as exc:
        if (exc.name or "").startswith("edge_gateway"):
            raise
        return
    add_dashboards_parser(sub)
    add_report_parser(sub)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `command` (the first word) it leaves out the NOC and bridge parsers that a
    gateway command does not need."""
    parser = argparse.ArgumentParser(prog="edge", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    agent = sub.add_parser("agent", help="run the gateway agent")
    agent.add_argument("-c", "--config", type=Path, required=True, help="agent TOML file")
    agent.set_defaults(func=cmd_agent)
    bridge = sub.add_parser("bridge", help="run the MQTT to InfluxDB bridge")
    bridge.add_argument("-c", "--config", type=Path, required=True, help="bridge TOML file")
    bridge.set_defaults(func=cmd_bridge)
    check = sub.add_parser("check-config", help="validate a config file; exit 2 listing every problem")
    check.add_argument("file", type=Path)
    check.add_argument("--kind", choices=["agent", "bridge"], help="default: tell from the sections")
    check.set_defaults(func=cmd_check_config)
    buffer = sub.add_parser("buffer", help="look into a gateway's disk buffer (read-only)")
    buffer.add_argument("action", choices=["stats", "dump"])
    where = buffer.add_mutually_exclusive_group(required=True)
    where.add_argument("-c", "--config", type=Path, help="agent TOML file naming the buffer")
    where.add_argument("--path", type=Path, help="the buffer database itself")
    buffer.add_argument("--json", action="store_true", help="stats as one JSON object")
    buffer.add_argument("--limit", type=int, help="dump at most this many readings")
    buffer.set_defaults(func=cmd_buffer)
    sim = sub.add_parser("sim", help="simulated devices on loopback").add_subparsers(
        dest="what", required=True
    )
    fleet = sim.add_parser(
        "fleet", help="simulated APs (SNMP) and intersections (ptys); writes an agent config"
    )
    fleet.add_argument("--aps", type=int, default=40, help="access points (default 40)")
    fleet.add_argument("--intersections", type=int, default=8, help="intersections (default 8)")
    fleet.add_argument(
        "--cameras", type=int, default=0, help="CCTV cameras over the intersections, real RTSP (default 0)"
    )
    fleet.add_argument("--seed", type=int, default=1, help="same seed, same fleet (default 1)")
    fleet.add_argument(
        "--faults", default="", help="NAME:FAULTS;... e.g. 'ap-003:no_reply;cbn-int-02:rs485.silent=3'"
    )
    fleet.add_argument("--config-out", type=Path, required=True, help="write the agent config here")
    fleet.add_argument(
        "--port-dir", type=Path, help="folder for the serial port links (default: a temp folder)"
    )
    fleet.add_argument("--gateway-id", default="cbn-gw-sim", help="gateway id in the config")
    fleet.add_argument("--broker-url", default="mqtt://127.0.0.1:1883", help="broker in the config")
    fleet.add_argument("--buffer-path", type=Path, help="buffer in the config (default: beside the config)")
    fleet.add_argument(
        "--interval-s", type=float, default=30.0, help="poll interval in the config (default 30)"
    )
    fleet.add_argument(
        "--clock",
        metavar="ISO8601",
        help="simulated time starts at this instant and runs on, e.g. 2026-12-01T03:00+07:00 "
        "(default: $EDGE_SIM_CLOCK, else the wall clock)",
    )
    fleet.add_argument(
        "--time-scale",
        type=float,
        metavar="F",
        help="simulated seconds per real second (default: $EDGE_SIM_TIME_SCALE, else 1)",
    )
    fleet.set_defaults(func=cmd_sim_fleet)
    schema = sub.add_parser("config-schema", help="JSON Schema of a config file, for editor completion")
    schema.add_argument("--kind", choices=["agent", "bridge"], default="agent")
    schema.set_defaults(func=cmd_config_schema)
    alerts = sub.add_parser("alerts", help="the bridge's alert rules").add_subparsers(
        dest="what", required=True
    )
    export = alerts.add_parser("export-grafana", help="the rules as Grafana alert-rule provisioning")
    export.add_argument("--rules", type=Path, help="rules file (default: the shipped rules)")
    export.add_argument("--out", type=Path, help="write here instead of standard output")
    export.set_defaults(func=cmd_alerts_export_grafana)
    demo = sub.add_parser("demo", help="the whole pipeline on loopback with real servers")
    demo.add_argument("--duration", type=float, default=60.0, help="seconds to run (default 60)")
    demo.add_argument("--summary-json", type=Path, help="write the summary counted from InfluxDB here")
    demo.set_defaults(func=cmd_demo)

    if command not in (*NOC_COMMANDS, *RUNNING_COMMANDS):
        from edge_gateway.agent.top import add_top_parser

        add_top_parser(sub)
    if command not in (*NOC_COMMANDS, *RUNNING_COMMANDS):
        from edge_gateway.agent.maintenance import add_maintenance_parser

        add_maintenance_parser(sub)
    probe = sub.add_parser("probe", help="poll one device once and print its readings")
    probes = probe.add_subparsers(dest="probe_kind", required=True)
    if command not in (*NOC_COMMANDS, *RUNNING_COMMANDS):
        from edge_gateway.agent.collectors.snmp.probe import add_probe_parser as add_snmp_probe

        add_snmp_probe(probes)
    if command not in (*NOC_COMMANDS, *RUNNING_COMMANDS):
        from edge_gateway.agent.collectors.serial.probe import add_probe_parser as add_serial_probe

        add_serial_probe(probes)
    if command not in (*NOC_COMMANDS, *RUNNING_COMMANDS):
        from edge_gateway.agent.collectors.camera.probe import add_probe_parser as add_camera_probe

        add_camera_probe(probes)
    if command not in (*GATEWAY_COMMANDS, *DEV_COMMANDS):
        _add_noc_parsers(sub)
    if command not in GATEWAY_COMMANDS:
        from edge_gateway.bridge.deadletter_cli import add_deadletters_parser

        add_deadletters_parser(sub)
    if command not in GATEWAY_COMMANDS:
        from edge_gateway.bridge.fleet_cli import add_fleet_parser

        add_fleet_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser(_command_of(argv)).parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:  # a command that reads a config or a key file: exit 2 naming each problem
        return _report(exc, getattr(args, "config", None) or Path("config"))


if __name__ == "__main__":
    sys.exit(main())
