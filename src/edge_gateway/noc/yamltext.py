"""A minimal YAML writer for Grafana's provisioning files (PyYAML is not a dependency of the project).

It writes block mappings and sequences of strings, numbers and booleans, quoting every string, which
is all the provisioning files need; anything else is a programming error and raises TypeError.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

Node = Mapping[str, object] | Sequence[object] | str | int | float | bool


def scalar(value: object) -> str:
    """A plain YAML scalar; strings in double quotes (JSON escaping is valid YAML escaping)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"cannot write {type(value).__name__} as a YAML scalar")


def _lines(node: object, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(node, Mapping):
        out: list[str] = []
        for key, value in node.items():
            if isinstance(value, Mapping | list):
                out.append(f"{pad}{key}:")
                out.extend(_lines(value, indent + 2))
            else:
                out.append(f"{pad}{key}: {scalar(value)}")
        return out
    if isinstance(node, list):
        out = []
        for item in node:
            inner = _lines(item, indent + 2)
            out.append(f"{pad}- {inner[0].lstrip()}")
            out.extend(inner[1:])
        return out
    return [f"{pad}{scalar(node)}"]


def dump(document: Mapping[str, object], comment: str = "") -> str:
    """The document as block YAML, after `comment` lines (each prefixed with '# ')."""
    header = [f"# {line}".rstrip() for line in comment.splitlines()]
    return "\n".join([*header, *_lines(document, 0)]) + "\n"
