"""Run Debian's net-snmp tools against simulated APs from async tests, and parse what they print.

The tools run as asyncio subprocesses so the event loop that serves the APs keeps serving meanwhile.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from edge_gateway_dev.sim.snmp import ApHandle

_LINE = re.compile(r"^(\.[0-9.]+) = (?:([A-Za-z0-9-]+): )?(.*)$")


@dataclass(frozen=True)
class ToolRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def rows(self) -> list[tuple[tuple[int, ...], str, str]]:
        """(oid, net-snmp type name, value text) for every typed varbind line (not endOfMibView etc.)."""
        out = []
        for line in self.stdout.splitlines():
            match = _LINE.match(line)
            if match is None:
                continue
            # net-snmp prints an empty OCTET STRING as a bare "" with no type name
            type_name = match.group(2) or ("STRING" if match.group(3) == '""' else "")
            if type_name:
                oid = tuple(int(arc) for arc in match.group(1).strip(".").split("."))
                out.append((oid, type_name, match.group(3)))
        return out


def credentials(ap: ApHandle, level: str | None = None) -> list[str]:
    """net-snmp arguments for the AP's own credentials; `level` downgrades a v3 authPriv user."""
    v3 = ap.spec.v3
    if v3 is None:
        assert ap.spec.community is not None
        return ["-v2c", "-c", ap.spec.community]
    level = level or v3.level
    args = ["-v3", "-l", level, "-u", v3.user]
    if level != "noAuthNoPriv" and v3.auth_key is not None:
        args += ["-a", v3.auth_protocol, "-A", v3.auth_key]
    if level == "authPriv" and v3.priv_key is not None:
        args += ["-x", v3.priv_protocol, "-X", v3.priv_key]
    return args


async def run_tool(tool: str, ap: ApHandle, args: list[str], *oids: str, timeout_s: float = 1.0) -> ToolRun:
    """e.g. run_tool("snmpbulkwalk", ap, credentials(ap), ".1"); -r 0: one try, so timeouts are quick."""
    process = await asyncio.create_subprocess_exec(
        tool,
        "-On",
        "-t",
        str(timeout_s),
        "-r",
        "0",
        *args,
        f"{ap.host}:{ap.port}",
        *oids,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await process.communicate()
    assert process.returncode is not None
    return ToolRun(process.returncode, stdout.decode(errors="replace"), stderr.decode(errors="replace"))
