"""The line of every key of a profile file, so a bad profile is reported as `file:line: key: problem`.

The standard TOML reader (tomllib) keeps no positions, so this scanner walks the text once more, after
tomllib has accepted it, and notes where each key path starts: `("tables", 2, "fields", 0, "scale")`
-> 57. It knows the TOML a profile uses: `[table]` and `[[array of tables]]` headers (a header
inside an array of tables belongs to its last element), dotted keys, inline tables and arrays over
several lines, the four kinds of string, comments. The text is valid TOML already, so it never has
to report a syntax error; a path it cannot place gets the line of its nearest ancestor.
"""

from __future__ import annotations

from collections.abc import Sequence

Path = tuple[str | int, ...]
_BARE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_SCALAR_END = set(",]}\n#")


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text, self.pos = text, 0
        self.lines: dict[Path, int] = {}
        self.arrays: dict[Path, int] = {}  # arrays of tables: elements seen so far

    def line(self) -> int:
        return self.text.count("\n", 0, self.pos) + 1

    def peek(self, size: int = 1) -> str:
        return self.text[self.pos : self.pos + size]

    def skip(self, newlines: bool) -> None:
        """Past blanks and comments (and line ends, where the grammar allows them)."""
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "#":
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end
            elif char in " \t\r" or (newlines and char == "\n"):
                self.pos += 1
            else:
                return

    def string(self) -> str:
        """One string of any kind, its value for a key (escapes are kept as written)."""
        quote = self.peek()
        delimiter = quote * 3 if self.peek(3) == quote * 3 else quote
        start = end = self.pos + len(delimiter)
        while end < len(self.text) and not self.text.startswith(delimiter, end):
            end += 2 if quote == '"' and self.text[end] == "\\" else 1
        while len(delimiter) == 3 and self.text[end + 3 : end + 4] == quote:
            end += 1  # up to two quotes may end a multi-line string's content
        self.pos = end + len(delimiter)
        return self.text[start:end]

    def key(self) -> list[str]:
        parts = []
        while True:
            self.skip(newlines=False)
            if self.peek() in "\"'":
                parts.append(self.string())
            else:
                start = self.pos
                while self.pos < len(self.text) and self.text[self.pos] in _BARE:
                    self.pos += 1
                parts.append(self.text[start : self.pos])
            self.skip(newlines=False)
            if self.peek() != ".":
                return parts
            self.pos += 1

    def resolve(self, keys: Sequence[str]) -> Path:
        """A header's keys as a path: each prefix that is an array of tables means its last element."""
        path: Path = ()
        for key in keys:
            path += (key,)
            if path in self.arrays:
                path += (self.arrays[path] - 1,)
        return path

    def value(self, path: Path) -> None:
        char = self.peek()
        if char == "{":
            self.pos += 1
            self.skip(newlines=True)
            while self.peek() not in ("}", ""):
                self.assignment(path)
                self.skip(newlines=True)
                if self.peek() != ",":
                    break
                self.pos += 1
                self.skip(newlines=True)
            self.pos += 1
        elif char == "[":
            self.pos += 1
            index = 0
            self.skip(newlines=True)
            while self.peek() not in ("]", ""):
                self.lines.setdefault((*path, index), self.line())
                self.value((*path, index))
                self.skip(newlines=True)
                if self.peek() != ",":
                    break
                self.pos += 1
                index += 1
                self.skip(newlines=True)
            self.pos += 1
        elif char in "\"'":
            self.string()
        else:
            while self.pos < len(self.text) and self.text[self.pos] not in _SCALAR_END:
                self.pos += 1

    def assignment(self, table: Path) -> None:
        """`key = value` (dotted keys too), noting the line of the key and of each of its prefixes."""
        line, keys = self.line(), self.key()
        for end in range(1, len(keys) + 1):
            self.lines.setdefault((*table, *keys[:end]), line)
        self.pos += 1  # '='
        self.skip(newlines=False)
        self.value((*table, *keys))

    def document(self) -> dict[Path, int]:
        table: Path = ()
        while True:
            self.skip(newlines=True)
            if self.pos >= len(self.text):
                return self.lines
            line = self.line()
            if self.peek(2) == "[[":
                self.pos += 2
                keys = self.key()
                array = (*self.resolve(keys[:-1]), keys[-1])
                self.arrays[array] = self.arrays.get(array, 0) + 1
                table = (*array, self.arrays[array] - 1)
                self.lines.setdefault(array, line)
                self.pos += 2
            elif self.peek() == "[":
                self.pos += 1
                table = self.resolve(self.key())
                self.pos += 1
            else:
                self.assignment(table)
                continue
            self.lines.setdefault(table, line)


def key_lines(text: str) -> dict[Path, int]:
    """Every key path of a TOML text that tomllib accepted, with the line (1-based) it starts on."""
    return _Scanner(text).document()


def line_of(lines: dict[Path, int], loc: Sequence[str | int]) -> int | None:
    """The line of `loc` (a pydantic error location), else of its nearest ancestor in the file."""
    path = tuple(loc)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None
