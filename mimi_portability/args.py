"""Argument helpers every part's subcommands share, and the command line's error type.

This module owns how the bounds of the model (`--clients`, `--ds`, ..., `--drop`) are spelled
on the command line and read back into a `model.config.Config` (`add_bounds`, `config_from`),
the designs a `--drop` turns into (`with_drops`), the argparse type `positive`, and
`CliError`, the bad input `mimi_portability.cli.main` prints as one `error: ...` line (exit 1).
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from model.config import Config, Variant
from model.rules import CHECKS

Handler = Callable[[argparse.Namespace], int]
#: What a part's `register` receives: the front's `add_subparsers()` object.
Subparsers = Any
#: A `verify` check: returns (status, detail), status "pass", "fail" or "skipped".
Check = Callable[[], tuple[str, str]]


class CliError(Exception):
    """Bad input from the command line: printed as `error: ...`, exit 1."""


def positive(text: str) -> int:
    """An argparse type: a whole number of at least 1 (else a usage error naming it)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_bounds(p: argparse.ArgumentParser) -> None:
    """The model's bounds and --drop, on `check`, `prove` and `mutate` alike."""
    d = Config()
    p.add_argument("--clients", type=int, default=d.clients, metavar="N",
                   help=f"honest clients, members of every group (default {d.clients})")
    p.add_argument("--ds", type=int, default=d.ds, metavar="N",
                   help=f"delivery services, the rogue one included (default {d.ds})")
    p.add_argument("--groups", type=int, default=d.groups, metavar="N",
                   help=f"groups (default {d.groups})")
    p.add_argument("--attempts", type=int, default=d.attempts, metavar="N",
                   help=f"nonces per Target DS: migration attempts (default {d.attempts})")
    p.add_argument("--epochs", type=int, default=d.max_epoch, metavar="N",
                   help=f"highest epoch a group may reach (default {d.max_epoch})")
    p.add_argument("--no-rogue-ds", action="store_true", help="no compromised DS")
    p.add_argument("--no-rogue-client", action="store_true", help="no rogue non-member client")
    p.add_argument("--drop", action="append", metavar="ID[,ID...]",
                   help="an ad-hoc design: also drop these checks (see 'checks'); the output "
                   "names it drop:ID")


def check_ids(items: Sequence[str] | None) -> frozenset[str]:
    """The check ids of a repeatable ID[,ID...] option (--drop, --only); ValueError names
    any id model/rules.py does not declare."""
    ids = frozenset(c.strip() for item in items or () for c in item.split(",") if c.strip())
    unknown = sorted(ids - set(CHECKS))
    if unknown:
        raise ValueError(f"unknown check id {', '.join(unknown)} (see 'mimi-portability "
                         "checks')")
    return ids


def config_from(args: argparse.Namespace) -> Config:
    """The bounds (and --drop's ad-hoc design) of the command line; ValueError names a bad
    bound or an unknown check id."""
    drop = check_ids(getattr(args, "drop", None))
    return Config(
        clients=args.clients,
        ds=args.ds,
        groups=args.groups,
        attempts=args.attempts,
        max_epoch=args.epochs,
        rogue_ds=not args.no_rogue_ds,
        rogue_client=not args.no_rogue_client,
        drop=drop,
    )


def with_drops(config: Config, designs: Sequence[Variant]) -> list[Variant]:
    """The designs to run: as named, or, under --drop, each of them with those checks also
    dropped, named after what they drop (`drop:lock.current_epoch`) and expected nothing."""
    if not config.drop:
        return list(designs)
    out = []
    for d in designs:
        name = dataclasses.replace(config, options=d.options).design_name()
        out.append(Variant(name, d.options, None, f"{d.description}, dropping "
                           + ", ".join(sorted(config.drop)), exploratory=True))
    return out
