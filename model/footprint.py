"""Read footprints of the rules' guards: which parts of a State a guard can read.

This module owns the static answer to "can this guard's value differ between two states
that agree on these parts?".  A guard reads a state only through its StateView parameter
`s` (model/vocabulary.py): `s.host` reads the hosting table, `s.record` the nonce pools,
`s.view` the client views, `s.has(name, ...)` and `s.some(name, ...)` the set `name` of
state.SET_NAMES.  `reads(f, position)` walks the source of `f` (and of every helper of the
rules' module that `f` passes `s` to) and gives the union of those parts, or None when it
cannot tell: `s` used any other way (assigned, stored, passed to something that is not a
plain helper of the module, a set named by anything but a literal).  None is always a safe
answer; the checker then evaluates the guard on every state.  The answers are kept in the
code cache (model/codecache.py, keyed by the source of model/): parsing the rules' module
is most of a small check's time.

model/actions.py uses the footprints to evaluate an action's guards once per distinct
combination of the parts they read (the successor generation that re-evaluates only the
actions whose footprint changed), tests/test_model_checker.py checks that it finds the same
transitions in the same order as evaluating every guard.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable
from typing import Any

from . import codecache
from .state import SET_NAMES

TABLE_OF_METHOD = {"host": "hosts", "record": "nonces", "view": "clients"}
SET_METHODS = ("has", "some")

_MEMO: dict[tuple[Any, ...], frozenset[str] | None] = {}


def reads(f: Callable[..., Any], position: int = 1,
          given: tuple[str, Any] | None = None) -> frozenset[str] | None:
    """The parts of a State that `f` can read through its parameter at `position` (a
    StateView), or None if that cannot be told from its source.  With `given` = (name of a
    parameter, its value), the statements `if name is K:` / `if name in (K, ...):` at the top
    of the function body whose answer is known are followed (can_forge for one kind)."""
    key = (f, position, given)
    if key in _MEMO:
        return _MEMO[key]
    label = "" if given is None else f"{given[0]}={getattr(given[1], '__name__', given[1])}"
    where = codecache.entry(f, f"footprint {position} {label}")
    if where is not None:
        kept, value = codecache.load_value(where)
        if kept and (value is None or isinstance(value, tuple)):
            _MEMO[key] = None if value is None else frozenset(value)
            return _MEMO[key]
    _MEMO[key] = None  # a helper that calls itself: unknown while it is being read
    try:
        found = _reads(f, position, given)
    except (OSError, TypeError, SyntaxError, IndexError):
        found = None
    _MEMO[key] = found
    if where is not None:
        codecache.store_value(where, None if found is None else tuple(sorted(found)))
    return found


def _taken(f: Callable[..., Any], body: list[ast.stmt], given: tuple[str, Any] | None
           ) -> list[ast.stmt]:
    """The top-level statements of `body` that can run when `given` holds: an `if` testing
    the given parameter by identity or membership is replaced by the branch it takes."""
    if given is None:
        return body
    name, value = given
    out: list[ast.stmt] = []
    for stmt in body:
        if isinstance(stmt, ast.If) and not stmt.orelse:
            answer = _decide(f, stmt.test, name, value)
            if answer is False:
                continue
            if answer is True:
                taken = _taken(f, stmt.body, given)
                out.extend(taken)
                if taken and isinstance(taken[-1], ast.Return | ast.Raise):
                    return out
                continue
        out.append(stmt)
    return out


def _decide(f: Callable[..., Any], test: ast.expr, name: str, value: Any) -> bool | None:
    if not (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
            and test.left.id == name and len(test.ops) == 1):
        return None
    op, right = test.ops[0], test.comparators[0]

    def known(node: ast.expr) -> tuple[bool, Any]:
        if isinstance(node, ast.Name) and node.id in f.__globals__:
            return True, f.__globals__[node.id]
        return False, None

    if isinstance(op, ast.Is):
        ok, other = known(right)
        return (other is value) if ok else None
    if isinstance(op, ast.In) and isinstance(right, ast.Tuple):
        options = [known(e) for e in right.elts]
        if all(ok for ok, _ in options):
            return any(o is value for _, o in options)
    return None


def _reads(f: Callable[..., Any], position: int, given: tuple[str, Any] | None = None
           ) -> frozenset[str] | None:
    from .compiled import _CannotCompile, _source

    if not inspect.isfunction(f) or f.__closure__:
        return None
    try:
        source = _source(f)
    except _CannotCompile:
        return None
    tree = ast.parse(textwrap.dedent(source))
    fn = tree.body[0]
    if not isinstance(fn, ast.FunctionDef) or fn.args.vararg or fn.args.posonlyargs:
        return None
    names = [a.arg for a in fn.args.args]
    if position >= len(names):
        return None
    s = names[position]
    fn.body = _taken(f, fn.body, given)
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(fn):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    out: set[str] = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.arg) and node.arg == s and node is not fn.args.args[position]:
            return None  # another binding of the same name (a lambda's or nested def's)
        if not (isinstance(node, ast.Name) and node.id == s):
            continue
        if not isinstance(node.ctx, ast.Load):
            return None
        parent = parents.get(node)
        if isinstance(parent, ast.Attribute) and parent.value is node:
            call = parents.get(parent)
            if not (isinstance(call, ast.Call) and call.func is parent):
                return None
            if parent.attr in TABLE_OF_METHOD:
                out.add(TABLE_OF_METHOD[parent.attr])
                continue
            if parent.attr in SET_METHODS and call.args:
                name = call.args[0]
                if isinstance(name, ast.Constant) and name.value in SET_NAMES:
                    out.add(name.value)
                    continue
            return None
        if isinstance(parent, ast.Call) and node in parent.args:
            inner = _helper(f, parent)
            if inner is None:
                return None
            found = reads(inner, parent.args.index(node))
            if found is None:
                return None
            out |= found
            continue
        return None
    return frozenset(out)


def _helper(f: Callable[..., Any], call: ast.Call) -> Callable[..., Any] | None:
    """The plain function of `f`'s module that `call` calls, if it is one."""
    if not isinstance(call.func, ast.Name) or any(isinstance(a, ast.Starred)
                                                  for a in call.args):
        return None
    target = f.__globals__.get(call.func.id)
    if inspect.isfunction(target) and target.__module__ == f.__module__:
        return target
    return None
