"""The network service's subcommands: `serve`, `world init`, `workload`.

This module owns how impl/http/ is driven from the command line: one DS per process from
its TOML config (`serve --config FILE`, honouring MIMI_CRASH_AT as a testing aid), a
loopback world written to a folder (`world init DIR`), and the workload that drives a
world's clients against its running servers (`workload --world DIR`).  Bad input (a config,
a key file, a folder, an argument) is a CliError: one line, exit 1, nothing written.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from impl.http import server, workload
from impl.http.config import ConfigError, load_ds_config, load_world
from impl.http.relay import RelayError
from impl.http.world import client_names, ds_names, init_world
from impl.storage.errors import StorageError

from ..args import Check, CliError, Subparsers, positive


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        config = load_ds_config(Path(args.config))
        hook = server.crash_hook_from_env(os.environ.get(server.CRASH_ENV))
    except (ConfigError, ValueError) as err:
        raise CliError(str(err)) from None
    try:
        server.serve(config, crash_hook=hook, trace=args.trace)
    except (StorageError, RelayError) as err:  # each names its file
        raise CliError(str(err)) from None
    except OSError as err:  # the address is taken, a file cannot be opened
        raise CliError(f"{config.domain}: {err}") from None
    return 0


def cmd_world_init(args: argparse.Namespace) -> int:
    folder = Path(args.dir)
    try:
        world = init_world(folder, domains=ds_names(args.ds),
                           clients=client_names(args.clients), suite=args.suite,
                           tls=not args.plain_http)
    except ValueError as err:
        raise CliError(str(err)) from None
    print(f"wrote a world of {args.ds} DSs and {args.clients} clients (suite {args.suite}) "
          f"in {folder}")
    for domain, peer in world.ds.items():
        print(f"  {domain}: mimi-portability serve --config {world.configs[domain]}  "
              f"# {peer.url}")
    print(f"then: mimi-portability workload --world {folder} --groups 2 --migrations 4")
    return 0


def cmd_workload(args: argparse.Namespace) -> int:
    try:
        world = load_world(Path(args.world))
    except ConfigError as err:
        raise CliError(str(err)) from None
    try:
        result = workload.run(world, groups=args.groups, migrations=args.migrations,
                              commits=args.commits, members=args.members, seed=args.seed,
                              timeout=args.timeout)
    except (ValueError, StorageError, RelayError, ConnectionError) as err:
        raise CliError(str(err)) from None
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        print(result.format_text())
    return 0 if result.ok else 1


def _suite(text: str) -> int:
    value = positive(text)
    if value > 7:
        raise argparse.ArgumentTypeError(f"ciphersuite must be 1..7, got {value}")
    return value


def register(subparsers: Subparsers) -> None:
    p = subparsers.add_parser("serve", help="run one delivery service over HTTP(S)")
    p.add_argument("--config", required=True, metavar="FILE", help="the DS's TOML config")
    p.add_argument("--trace", type=Path, metavar="FILE",
                   help="write the DS's trace log to FILE (docs/trace-format.md; a restart "
                   "goes on in the same file)")
    p.set_defaults(handler=cmd_serve)

    p = subparsers.add_parser("world", help="write a loopback world of DSs and clients")
    wsub = p.add_subparsers(dest="world_command", required=True, metavar="ACTION")
    w = wsub.add_parser("init", help="configs, keys and certificates in DIR")
    w.add_argument("dir", metavar="DIR", help="an empty or missing folder")
    w.add_argument("--ds", type=positive, default=2, metavar="N", help="DSs (default 2)")
    w.add_argument("--clients", type=positive, default=3, metavar="N",
                   help="clients (default 3)")
    w.add_argument("--suite", type=_suite, default=1, metavar="N",
                   help="the clients' ciphersuite 1..7 (default 1)")
    w.add_argument("--plain-http", action="store_true",
                   help="no TLS (loopback only): faster, for experiments")
    w.set_defaults(handler=cmd_world_init)

    p = subparsers.add_parser("workload", help="drive a world's clients against its servers")
    p.add_argument("--world", required=True, metavar="DIR", help="a folder of `world init`")
    p.add_argument("--groups", type=positive, default=2, metavar="N", help="groups (default 2)")
    p.add_argument("--migrations", type=int, default=4, metavar="M",
                   help="migrations in all, spread over the groups (default 4)")
    p.add_argument("--commits", type=int, default=1, metavar="N",
                   help="ordinary commits before each migration (default 1)")
    p.add_argument("--members", type=positive, default=None, metavar="N",
                   help="members per group (default: every client of the world)")
    p.add_argument("--seed", type=int, default=0, help="the workload's choices (default 0)")
    p.add_argument("--timeout", type=float, default=60.0, metavar="S",
                   help="give up on a migration after S seconds (default 60)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_workload)


def verify_checks(*, quick: bool = False) -> list[tuple[str, Check]]:
    """None: the servers are tested by pytest (tests/test_http_*.py), not by `verify`."""
    del quick
    return []



