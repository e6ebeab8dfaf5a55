"""Every `edge ...` command shown in README.md and docs/ names subcommands and options that exist.

Each command's words are walked down the real parser (`edge_gateway.cli.main.build_parser`) to its
subcommand, whose
`--help` must succeed, and each `--option` the command shows must be one that subcommand takes: a
README that says `edge dashboards build --url` fails here."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from edge_gateway.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
INLINE = re.compile(r"`(edge [a-z][^`]*)`")


def commands() -> list[tuple[str, str]]:
    """(file, command) for each `edge ...` in inline code, and each code-block line starting with it."""
    found = []
    for path in DOCS:
        fenced = False
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("```"):
                fenced = not fenced
                continue
            texts = [line.strip().removeprefix("$ ")] if fenced else INLINE.findall(line)
            for text in texts:
                if re.match(r"edge [a-z][\w-]*(\s|$)", text):  # not a diagram's `edge agent: ...`
                    found.append((str(path.relative_to(ROOT)), text.replace("\\|", "|")))
    return found


def subparser_of(
    parser: argparse.ArgumentParser, words: list[str]
) -> tuple[argparse.ArgumentParser, list[str]]:
    """The deepest subcommand the words name, and the words that led to it."""
    path: list[str] = []
    for word in words:
        choices = next(
            (a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None
        )
        if not choices or word not in choices:
            break
        parser = choices[word]
        path.append(word)
    return parser, path


def options_of(parser: argparse.ArgumentParser) -> set[str]:
    return set(parser._option_string_actions)


CASES = commands()


def test_the_docs_show_commands() -> None:
    assert len(CASES) > 30


@pytest.mark.parametrize(("where", "command"), CASES, ids=[f"{w}:{c[:60]}" for w, c in CASES])
def test_command_exists_with_its_options(where: str, command: str) -> None:
    words = command.split()[1:]
    parser, path = subparser_of(build_parser(), words)
    assert path, f"{where}: `{command}`: no such subcommand"
    with pytest.raises(SystemExit) as done:
        parser.parse_args(["--help"])
    assert done.value.code == 0
    shown = {word.split("=")[0] for word in re.findall(r"(?<![\w-])--[a-z][\w-]*(?:=\S*)?", command)}
    unknown = sorted(shown - options_of(parser))
    assert not unknown, f"{where}: `{command}`: `edge {' '.join(path)}` takes no {unknown}"
