"""Read back the YAML subset src/edge_gateway/noc/yamltext.py writes (PyYAML is not installed here).

Block mappings, sequences of mappings, and scalars (double-quoted strings, integers,
floats, booleans); enough to check the provisioning files' structure, and strict: anything else fails.
"""

from __future__ import annotations

import json
from typing import Any


def _scalar(text: str) -> Any:
    if text in ("true", "false"):
        return text == "true"
    if text.startswith('"'):
        return json.loads(text)
    try:
        return int(text)
    except ValueError:
        return float(text)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _block(lines: list[str], start: int, indent: int) -> tuple[Any, int]:
    """The node whose lines start at `start` with `indent` spaces; returns it and the next line."""
    if lines[start][indent:].startswith("- "):
        items: list[Any] = []
        i = start
        while i < len(lines) and _indent(lines[i]) == indent and lines[i][indent:].startswith("- "):
            lines[i] = lines[i][:indent] + "  " + lines[i][indent + 2 :]
            item, i = _block(lines, i, indent + 2)
            items.append(item)
        return items, i
    mapping: dict[str, Any] = {}
    i = start
    while i < len(lines) and _indent(lines[i]) == indent and not lines[i][indent:].startswith("- "):
        key, _, rest = lines[i][indent:].partition(":")
        if key in mapping or not key.isidentifier():
            raise ValueError(f"line {i + 1}: bad or repeated key {key!r}")
        if rest.strip():
            mapping[key] = _scalar(rest.strip())
            i += 1
        else:
            if i + 1 >= len(lines) or _indent(lines[i + 1]) <= indent:
                raise ValueError(f"line {i + 1}: {key!r} has no value")
            mapping[key], i = _block(lines, i + 1, _indent(lines[i + 1]))
    return mapping, i


def load(text: str) -> Any:
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    node, end = _block(lines, 0, 0)
    if end != len(lines):
        raise ValueError(f"line {end + 1}: unexpected indentation")
    return node
