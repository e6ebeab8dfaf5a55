"""Arithmetic over named values for a profile's derived `ap` fields, e.g. memory used in percent.

`100 * (mem_total - mem_free) / mem_total` is parsed with `ast` and only numbers, names, + - * / and
parentheses are accepted, so a profile file can compute a field without being able to run code.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping

_OPERATORS: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def _parse(expression: str) -> ast.expr:
    try:
        tree = ast.parse(expression, mode="eval").body
    except SyntaxError as exc:
        raise ValueError(f"not an expression: {expression!r}") from exc
    for node in ast.walk(tree):
        allowed = (ast.BinOp, ast.Name, ast.Constant, ast.Load, ast.UnaryOp, ast.USub, *_OPERATORS)
        if not isinstance(node, allowed):
            raise ValueError(f"{type(node).__name__} is not allowed in {expression!r}")
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float):
            raise ValueError(f"only numbers are allowed in {expression!r}")
    return tree


def names_in(expression: str) -> set[str]:
    """The names an expression uses; raises ValueError when it is not plain arithmetic."""
    return {node.id for node in ast.walk(_parse(expression)) if isinstance(node, ast.Name)}


def evaluate(expression: str, values: Mapping[str, float]) -> float | None:
    """The value, or None when a name has no value this poll or a division by zero happens."""

    def run(node: ast.expr) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.Name):
            return values[node.id]
        if isinstance(node, ast.UnaryOp):
            return -run(node.operand)
        if not isinstance(node, ast.BinOp):
            raise KeyError(type(node).__name__)
        return _OPERATORS[type(node.op)](run(node.left), run(node.right))

    try:
        return run(_parse(expression))
    except (KeyError, ZeroDivisionError):
        return None
