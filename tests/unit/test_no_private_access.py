"""No module reaches into another object's private members: `x._name` only on `self` or `cls`.

Collaborators talk through public, documented methods and properties, so a venue or a source can change
its internals without breaking whoever uses it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import botnft

PACKAGE = Path(botnft.__file__).parent

#: Underscore-named attributes that are a public API elsewhere, with why.
ALLOWED = {
    # namedtuple's public methods; SQLAlchemy's Row follows them (storage reads rows as dicts)
    "_asdict": "namedtuple / SQLAlchemy Row API",
    "_replace": "namedtuple API",
    "_fields": "namedtuple API",
    "_make": "namedtuple API",
}
OWN = {"self", "cls"}
BY_NAME = {"getattr", "setattr", "hasattr", "delattr"}


def _private(name: str) -> bool:
    dunder = name.startswith("__") and name.endswith("__")
    return name.startswith("_") and not dunder and name not in ALLOWED


def _own(node: ast.expr) -> bool:
    """`self`, `cls` or `super()`: the object's own members."""
    if isinstance(node, ast.Name):
        return node.id in OWN
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"


def private_accesses(source: str) -> list[tuple[int, str]]:
    """(line, expression) of every access to another object's private member in `source`: attribute
    syntax, and getattr/setattr/hasattr/delattr or ``object.__setattr__`` with a literal name."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and _private(node.attr) and not _own(node.value):
            found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.Call) and len(node.args) >= 2:
            f = node.func
            by_name = (isinstance(f, ast.Name) and f.id in BY_NAME) or (
                isinstance(f, ast.Attribute) and f.attr in ("__setattr__", "__getattribute__")
            )
            name = node.args[1]
            if (
                by_name
                and isinstance(name, ast.Constant)
                and isinstance(name.value, str)
                and _private(name.value)
                and not _own(node.args[0])
            ):
                found.append((node.lineno, ast.unparse(node)))
    return found


def test_no_module_of_the_package_touches_another_objects_private_members() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {expr}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line, expr in private_accesses(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "private members used from outside their object:\n" + "\n".join(offenders)


@pytest.mark.parametrize(
    "code",
    [
        "venue._book(order)",
        "self.venue._catch_up()",
        "src._curves['buy']",
        "getattr(v.account, '_wallet', None)",
        "object.__setattr__(obj, '_curves', {})",
    ],
)
def test_the_check_flags_a_private_member_reached_through_another_object(code: str) -> None:
    assert [expr for _, expr in private_accesses(code)] != []


@pytest.mark.parametrize(
    "code",
    [
        "self._book(order)",
        "cls._registry",
        "super()._setup()",
        "Table.__table__",
        "row._asdict()",
        "getattr(self, '_ts_ns', 0)",
        "object.__setattr__(self, 'curves', {})",
    ],
)
def test_the_check_allows_own_members_dunders_and_the_namedtuple_api(code: str) -> None:
    assert private_accesses(code) == []
