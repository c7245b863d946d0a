"""Read numeric constants out of the kernel's UAPI headers in /usr/include/linux.

Invariants: a tiny, forgiving C reader, good enough for ``#define NAME <int expr>``
and ``enum { ... }`` blocks; used only by tests to cross-check
``rawns.netlink.constants``.  Names whose value it cannot evaluate are skipped.
"""

from __future__ import annotations

import ast
import operator
import re
from pathlib import Path

__all__ = ["HEADER_DIR", "read_constants"]

HEADER_DIR = Path("/usr/include/linux")

_BINOPS = {
    ast.BitOr: operator.or_,
    ast.BitAnd: operator.and_,
    ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
}


def _evaluate(expr: str, known: dict[str, int]) -> int | None:
    expr = re.sub(r"\b(0x[0-9a-fA-F]+|\d+)[uUlL]+\b", r"\1", expr.strip())
    expr = re.sub(r"\(\s*(?:unsigned\s+)?int\s*\)", "", expr)
    if not expr:
        return None
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        return None

    def walk(node: ast.AST) -> int:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.Name) and node.id in known:
            return known[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return _BINOPS[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert):
            return ~walk(node.operand)
        raise ValueError(expr)

    try:
        return walk(tree)
    except (ValueError, RecursionError):
        return None


def read_constants(*header_names: str) -> dict[str, int]:
    """Return {NAME: value} for every constant the named headers define."""
    known: dict[str, int] = {}
    for header_name in header_names:
        text = (HEADER_DIR / header_name).read_text()
        text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
        text = re.sub(r"//[^\n]*", " ", text)
        text = text.replace("\\\n", " ")
        # Enum bodies first, in source order, each counting from 0.
        for body in re.findall(r"\benum\b[^{;]*\{(.*?)\}", text, flags=re.S):
            body = re.sub(r"^\s*#[^\n]*", " ", body, flags=re.M)
            next_value = 0
            for item in body.split(","):
                item = item.strip()
                if not item:
                    continue
                name, _, expr = item.partition("=")
                name = name.strip()
                if not re.fullmatch(r"[A-Za-z_]\w*", name):
                    continue
                value = _evaluate(expr, known) if expr else next_value
                if value is None:
                    continue
                known[name] = value
                next_value = value + 1
        for name, expr in re.findall(r"^\s*#\s*define\s+([A-Za-z_]\w*)[ \t]+([^\n]+)$",
                                     text, flags=re.M):
            value = _evaluate(expr, known)
            if value is not None and name not in known:
                known[name] = value
    return known
