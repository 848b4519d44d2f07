"""The concrete reading of the rules compiled once per design: guards, effects, helpers, clauses.

This module owns the explicit checker's fast path.  A guard in model/rules.py is a generator
of labelled conjuncts, which is what diagnosis, mutation and the symbolic reading need; run
on every candidate of every state, though, the generator's frames, the (check, value) tuples
and the per-conjunct test "is this check dropped" cost more than the conjuncts themselves.
`compiled_guard(rule, dropped)` rewrites the guard's own source (its syntax tree, read from
its module's file) into a plain function with the same parameters that returns whether the guard
holds in the design that drops `dropped`:

- `yield CHECK, value` becomes `if not (value): return False`, and disappears where the
  design drops CHECK (a switch always stays: its value reads the design itself);
- `yield from helper(...)` keeps the generic loop over the helper's labelled conjuncts;
- `x.all`, `x.any`, `x.no`, `x.implies`, `x.one_of` inside a conjunct become Python's `and`,
  `or`, `not`, `in` (short-circuit: a later operand may assume an earlier one held, which is
  what the rules' order already says), `x.check(CHECK, v)` becomes `True` or `v`,
  `x.enforces(CHECK)` and `x.true`/`x.false` constants, `x.make(Cls, ...)` a plain call.

Nothing is rewritten that the generic reading would evaluate differently: the compiled
guard and the generic loop agree on every candidate, which tests/test_model_compiled.py
checks on every rule of every design, and a guard whose source cannot be read (a lambda, a
function made at run time) falls back to the generic loop.

`compiled_body(body)` does the same for a property's clause body (model/properties.py),
whose value is only ever read as a truth value: the same rewrites of the vocabulary's
logic, everything else as written.  `compiled_effect(effect, dropped)` rewrites an effect:
`x.make`, `x.enforces` and the logic as above, each truth value kept a bool (an effect's
`when=` tells "false" from "no condition").  Inside any of them, a call of a plain helper of
the same module that takes the reading first (`first_unused(x, s, ...)`) calls the helper
compiled the same way (`compiled_helper`).

What an earlier process rewrote is read back from the code cache (model/codecache.py): one
function at a time from its pack, or, after `preload(dropped)`, every function a run of that
design made, from the design's bundle in one read (`keep(dropped)` writes it); both paths
execute the same kept code.
"""

from __future__ import annotations

import ast
import inspect
import sys
import textwrap
from collections.abc import Callable
from types import CodeType, FunctionType
from typing import Any

from . import codecache
from .vocabulary import Check

Compiled = Callable[..., bool]

_CACHE: dict[tuple[Any, ...], Compiled] = {}

Record = tuple[str, str, str, int, CodeType, codecache.Aliases]
"""One function as a bundle keeps it: (kind, module, name, first line, code, aliases)."""

_MADE: dict[tuple[Any, ...], Record] = {}
"""Per key of _CACHE made from code (rewritten now or kept before): its record, in the
order made (a helper before the functions that call it)."""
_CODE: dict[Callable[..., Any], tuple[CodeType, codecache.Aliases]] = {}
_PRELOADED: dict[Any, set[tuple[Any, ...]]] = {}
"""Per bundle read (or found absent): the keys it held."""


def compiled_guard(guard: Callable[..., Any], dropped: frozenset[str]) -> Compiled:
    """`guard` (a generator of labelled conjuncts) as one boolean function for the design
    that drops `dropped`; made once per guard and design."""
    return _memo((guard, dropped), lambda: _generic(guard, dropped),
                 lambda: _compile(guard, dropped))


def compiled_body(body: Callable[..., Any]) -> Callable[..., Any]:
    """A clause body (x, s, *variables) with the vocabulary's logic compiled to Python's;
    the body itself where it cannot be."""
    return _memo((body, "body"), lambda: body,
                 lambda: _rewritten(body, frozenset(), design_free=True))


def compiled_effect(effect: Callable[..., Any], dropped: frozenset[str]) -> Callable[..., Any]:
    """`effect` (x, s, *params) -> next StateView with the vocabulary compiled for the design
    that drops `dropped`; the effect itself where it cannot be."""
    return _memo((effect, dropped, "effect"), lambda: effect,
                 lambda: _rewritten(effect, dropped, booleans=True))


def compiled_helper(helper: Callable[..., Any]) -> Callable[..., Any]:
    """A helper of the rules (x, s, ...) -> value, its vocabulary compiled (truth values kept
    bools); the helper itself where it cannot be."""
    return _memo((helper, "helper"), lambda: helper,
                 lambda: _rewritten(helper, frozenset(), design_free=True, booleans=True))


def _memo(key: tuple[Any, ...], fallback: Callable[[], Compiled],
          make: Callable[[], Compiled]) -> Compiled:
    """The compiled function under `key`, made once; the fallback where it cannot be made
    (and while it is being made: a helper that calls itself gets the fallback)."""
    found = _CACHE.get(key)
    if found is None:
        _CACHE[key] = plain = fallback()
        try:
            found = make()
        except (OSError, TypeError, _CannotCompile):
            found = plain
        _CACHE[key] = found
        code = _CODE.pop(found, None)
        if code is not None:
            f, kind = key[0], key[-1] if isinstance(key[-1], str) else "guard"
            _MADE[key] = (kind, f.__module__, f.__name__, f.__code__.co_firstlineno, *code)
    return found


_KINDS = ("guard", "effect", "body", "helper")
_DESIGN_KINDS = ("guard", "effect")
"""The kinds compiled per design (their key holds the dropped checks); the others are
compiled once for every design."""


def preload(dropped: frozenset[str]) -> None:
    """Make every function the bundle of the design that drops `dropped` holds (one file,
    one decoding; model/codecache.py), so that compiling them later finds them made; a
    record that does not match the loaded rules is passed over (compiled as usual).  Once
    per bundle and process."""
    where = codecache.bundle(dropped)
    if where is None or where in _PRELOADED:
        return
    loaded = _PRELOADED[where] = set()
    spaces: dict[tuple[str, str], dict[str, Any]] = {}
    for record in codecache.read_bundle(where):
        key = _made(record, dropped, spaces)
        if key is not None:
            loaded.add(key)


def _made(record: Any, dropped: frozenset[str], spaces: dict[tuple[str, str], dict[str, Any]]
          ) -> tuple[Any, ...] | None:
    """One bundle record made into its compiled function under its key, or None."""
    if not (type(record) is tuple and len(record) == 6):
        return None
    kind, module, name, line, code, aliases = record
    if not (kind in _KINDS and type(module) is str and type(name) is str
            and type(code) is CodeType and type(aliases) is list
            and (not aliases or codecache.aliases_ok(aliases))):
        return None
    f = getattr(sys.modules.get(module), name, None)
    if not (type(f) is FunctionType and f.__code__.co_firstlineno == line
            and codecache.in_model(f.__code__.co_filename)):
        return None
    key = (f, dropped) if kind == "guard" else (f, dropped, kind) if kind == "effect" else (
        f, kind)
    if key in _CACHE:
        return key
    namespace = spaces.get((module, kind))
    if namespace is None:
        namespace = spaces[(module, kind)] = {**f.__globals__, "_dropped": dropped}
    made = _run_kept(code, aliases, namespace, name)
    if not callable(made):
        return None
    _CACHE[key] = made
    _MADE[key] = (kind, module, name, line, code, list(aliases))
    return key


def keep(dropped: frozenset[str]) -> None:
    """Write the bundle of the design that drops `dropped` when this process made a
    function of it (or of every design), or read a value, that the bundle did not hold."""
    where = codecache.bundle(dropped)
    if where is None:
        return
    held = _PRELOADED.setdefault(where, set())
    if len(held) == len(_MADE) and not codecache.unbundled(where):
        return  # nothing made or read since the bundle was read or written
    mine = [(key, r) for key, r in _MADE.items()
            if r[0] not in _DESIGN_KINDS or key[1] == dropped]
    new_code = not all(key in held for key, _ in mine)
    codecache.write_bundle(where, [r for _, r in mine], new_code=new_code)
    held.update(key for key, _ in mine)


def _rewritten(f: Callable[..., Any], dropped: frozenset[str], *, design_free: bool = False,
               booleans: bool = False) -> Compiled:
    """`f` with every vocabulary call in its body rewritten (_Conjunct), statements kept."""
    entry = codecache.entry(f, f"calls {sorted(dropped)} {design_free} {booleans}")
    kept = _kept(f, entry, {})
    if kept is not None:
        return kept
    fn, namespace = _parse(f)
    rewrite = _Conjunct(namespace, fn.args.args[0].arg, dropped, design_free=design_free,
                        booleans=booleans)
    fn.body = [rewrite.visit(stmt) for stmt in fn.body]
    return _define(f, fn, namespace, rewrite.aliases, entry)


def _kept(f: Callable[..., Any], entry: codecache.Entry | None, extra: dict[str, Any]
          ) -> Compiled | None:
    """`f` as rewritten by an earlier process (model/codecache.py), or None."""
    found = codecache.load(entry) if entry is not None else None
    if found is None:
        return None
    code, aliases = found
    made = _run_kept(code, aliases, {**f.__globals__, **extra}, f.__name__)
    if made is not None:
        _CODE[made] = (code, aliases)
    return made


def _run_kept(code: CodeType, aliases: codecache.Aliases, namespace: dict[str, Any],
              name: str) -> Compiled | None:
    """Kept code run in `namespace` with its helpers' compiled versions under their
    aliases: the function it defines, or None (a helper it calls is gone)."""
    for alias, helper in aliases:
        if not callable(namespace.get(helper)):
            return None
        namespace[alias] = compiled_helper(namespace[helper])
    exec(code, namespace)  # the rules' own source, rewritten, as compiled before
    made: Compiled | None = namespace.get(f"{name}__compiled")
    return made


_MODULES: dict[str, tuple[list[str], dict[str, tuple[int, int]]]] = {}


def _source(f: Callable[..., Any]) -> str:
    """The source of a module-level function, its module's file parsed once (inspect's
    getsource tokenizes the file anew for every function: most of a cold start)."""
    path = inspect.getsourcefile(f)
    if path is None:
        raise _CannotCompile(f)
    found = _MODULES.get(path)
    if found is None:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        spans = {node.name: (node.lineno, node.end_lineno or node.lineno)
                 for node in ast.parse(text).body if isinstance(node, ast.FunctionDef)}
        found = _MODULES[path] = (text.splitlines(keepends=True), spans)
    lines, spans = found
    span = spans.get(f.__name__)
    if span is None or span[0] != f.__code__.co_firstlineno:
        raise _CannotCompile(f)  # not module-level, or the file changed since its import
    return "".join(lines[span[0] - 1:span[1]])


def _parse(f: Callable[..., Any]) -> tuple[ast.FunctionDef, dict[str, Any]]:
    tree = ast.parse(textwrap.dedent(_source(f)))
    fn = tree.body[0]
    if not isinstance(fn, ast.FunctionDef) or f.__closure__ or fn.name != f.__name__:
        raise _CannotCompile(f)
    fn.decorator_list = []
    fn.returns = None
    for a in fn.args.args:
        a.annotation = None
    return fn, dict(f.__globals__)


def _define(f: Callable[..., Any], fn: ast.FunctionDef, namespace: dict[str, Any],
            aliases: codecache.Aliases, entry: codecache.Entry | None) -> Compiled:
    fn.name = f"{f.__name__}__compiled"
    module = ast.fix_missing_locations(ast.Module([fn], []))
    code = compile(module, f"<compiled {f.__module__}.{f.__name__}>", "exec")
    if entry is not None:
        codecache.store(entry, code, aliases)
    exec(code, namespace)  # the rules' own source, rewritten
    made: Compiled = namespace[fn.name]
    _CODE[made] = (code, aliases)
    return made


def _generic(guard: Callable[..., Any], dropped: frozenset[str]) -> Compiled:
    def holds(*args: Any) -> bool:
        for chk, ok in guard(*args):
            if not ok and (chk.kind != "check" or chk.id not in dropped):
                return False
        return True

    return holds


class _CannotCompile(Exception):
    pass


def _compile(guard: Callable[..., Any], dropped: frozenset[str]) -> Compiled:
    entry = codecache.entry(guard, f"guard {sorted(dropped)}")
    kept = _kept(guard, entry, {"_dropped": dropped})
    if kept is not None:
        return kept
    fn, namespace = _parse(guard)
    rewrite = _Conjunct(namespace, fn.args.args[0].arg, dropped)
    fn.body = [stmt for node in fn.body for stmt in rewrite.statement(node)]
    fn.body.append(ast.Return(ast.Constant(True)))
    namespace["_dropped"] = dropped
    return _define(guard, fn, namespace, rewrite.aliases, entry)


class _Conjunct(ast.NodeTransformer):
    """Rewrites one guard's statements and the vocabulary calls inside its conjuncts."""

    def __init__(self, namespace: dict[str, Any], x_name: str, dropped: frozenset[str],
                 design_free: bool = False, booleans: bool = False):
        self.namespace = namespace
        self.x = x_name
        self.dropped = dropped
        self.design_free = design_free
        """A clause body: it may not read the design (check, enforces)."""
        self.booleans = booleans
        """An effect: every rewritten truth value stays a bool."""
        self.aliases: codecache.Aliases = []
        """The helpers the rewritten code calls compiled, by alias (kept with the code)."""

    def statement(self, node: ast.stmt) -> list[ast.stmt]:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            return []  # the docstring
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Yield):
            return self._yield(node.value)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.YieldFrom):
            return [self._yield_from(node.value)]
        for inner in ast.walk(node):
            if isinstance(inner, ast.Yield | ast.YieldFrom | ast.Return):
                raise _CannotCompile(ast.dump(node))
        return [node]

    def _yield(self, node: ast.Yield) -> list[ast.stmt]:
        value = node.value
        if not (isinstance(value, ast.Tuple) and len(value.elts) == 2):
            raise _CannotCompile(ast.dump(node))
        label, truth = value.elts
        chk = self._check(label)
        if chk.kind == "check" and chk.id in self.dropped:
            return []
        test = ast.UnaryOp(ast.Not(), self.visit(truth))
        return [ast.If(test, [ast.Return(ast.Constant(False))], [])]

    def _yield_from(self, node: ast.YieldFrom) -> ast.stmt:
        loop = ast.parse(
            "for _chk, _ok in None:\n"
            "    if not _ok and (_chk.kind != 'check' or _chk.id not in _dropped):\n"
            "        return False\n").body[0]
        assert isinstance(loop, ast.For)
        loop.iter = node.value
        return loop

    def _check(self, node: ast.expr) -> Check:
        if isinstance(node, ast.Name):
            found = self.namespace.get(node.id)
            if isinstance(found, Check):
                return found
        raise _CannotCompile(ast.dump(node))

    def _vocabulary(self, node: ast.Call) -> str | None:
        f = node.func
        if (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name)
                and f.value.id == self.x and not node.keywords
                and not any(isinstance(a, ast.Starred) for a in node.args)):
            return f.attr
        return None

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        if isinstance(node.value, ast.Name) and node.value.id == self.x:
            if node.attr == "true":
                return ast.Constant(True)
            if node.attr == "false":
                return ast.Constant(False)
        return self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        name = self._vocabulary(node)
        if name is None:
            self._helper(node)
            return self.generic_visit(node)
        out = self._call(node, name)
        if self.booleans and name in ("all", "any", "implies") and out is not node:
            return _truth(out)  # type: ignore[arg-type]
        return out

    def _helper(self, node: ast.Call) -> None:
        """A call of a plain helper of the same module taking the reading first (`x`) calls
        its compiled version instead."""
        f = node.func
        if not (isinstance(f, ast.Name) and node.args and isinstance(node.args[0], ast.Name)
                and node.args[0].id == self.x):
            return
        helper = self.namespace.get(f.id)
        if (not inspect.isfunction(helper) or inspect.isgeneratorfunction(helper)
                or helper.__module__ != self.namespace.get("__name__")):
            return
        compiled = compiled_helper(helper)
        if compiled is not helper:
            alias = f"{f.id}__compiled"
            self.namespace[alias] = compiled
            self.aliases.append((alias, f.id))
            node.func = ast.Name(alias, ast.Load())

    def _call(self, node: ast.Call, name: str) -> ast.AST:
        args = [self.visit(a) for a in node.args]
        if name == "all" and args:
            return ast.BoolOp(ast.And(), args) if len(args) > 1 else _truth(args[0])
        if name == "any" and args:
            return ast.BoolOp(ast.Or(), args) if len(args) > 1 else _truth(args[0])
        if name == "no" and len(args) == 1:
            return ast.UnaryOp(ast.Not(), args[0])
        if name == "implies" and len(args) == 2:
            return ast.BoolOp(ast.Or(), [ast.UnaryOp(ast.Not(), args[0]), args[1]])
        if name == "one_of" and len(args) >= 2:
            return ast.Compare(args[0], [ast.In()], [ast.Tuple(args[1:], ast.Load())])
        if name in ("check", "enforces") and self.design_free:
            raise _CannotCompile(ast.dump(node))
        if name == "check" and len(args) == 2:
            dropped = self._check(node.args[0]).id in self.dropped
            return ast.Constant(True) if dropped else args[1]
        if name == "enforces" and len(args) == 1:
            return ast.Constant(self._check(node.args[0]).id not in self.dropped)
        if name == "make" and args:
            return ast.Call(args[0], args[1:], [])
        node.args = args
        return node


def _truth(node: ast.expr) -> ast.expr:
    return ast.Call(ast.Name("bool", ast.Load()), [node], [])
