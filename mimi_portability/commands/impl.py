"""The implementation's subcommands (`vectors`, `decode`, `demo`, `demo --http`) and its checks
for `verify`.

This module owns how impl/ is driven from the command line: the test-vector folders, one
message decoded to JSON (and its signature checked), a whole migration over the in-memory
network; and the `verify` checks of the implementation: the official RFC 9420 vectors
(impl.mls.interop), the committed MIMI Portability vectors (impl.vectors), the demo migrations.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from impl import demo, signing, vectors
from impl.codec import DecodeError
from impl.crypto import CipherSuite
from impl.http import demo as http_demo
from impl.messages import SignedStruct, message_type, to_json
from impl.mls import interop

from ..args import Check, CliError, Subparsers
from .itf import add_itf_option
from .validate import validate

#: The checkout (or, installed, the site-packages folder: no test-vectors/ there).
REPO = Path(__file__).resolve().parents[2]


def _read_hex(arg: str) -> bytes:
    text = sys.stdin.read() if arg == "-" else arg
    text = "".join(text.split())
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise CliError("input is not hexadecimal") from None


def cmd_decode(args: argparse.Namespace) -> int:
    try:
        cls = message_type(args.type)
    except ValueError as err:
        raise CliError(str(err)) from None
    data = _read_hex(args.hex)
    try:
        message = cls.decode(data)
    except DecodeError as err:
        raise CliError(f"{cls.NAME}: {err}") from None
    out = to_json(message)
    if args.verify_with is not None:
        if args.suite is None:
            raise CliError("--verify-with needs --suite")
        if not isinstance(message, SignedStruct):
            raise CliError(f"{cls.NAME} carries no signature")
        try:
            suite = CipherSuite.parse(args.suite)
        except (ValueError, TypeError) as err:
            raise CliError(str(err)) from None
        pub = _read_hex(args.verify_with)
        valid = signing.verify(message, suite, pub)
        out = {"type": cls.NAME, "message": out, "signature_valid": valid}
        print(json.dumps(out, indent=2))
        if not valid:
            print(f"error: {cls.NAME}: signature does not verify", file=sys.stderr)
            return 1
        return 0
    print(json.dumps({"type": cls.NAME, "message": out}, indent=2))
    return 0


def cmd_vectors(args: argparse.Namespace) -> int:
    if (args.out is None) == (args.check is None):
        raise CliError("give exactly one of --out DIR or --check DIR")
    if args.out is not None:
        for path in vectors.write_folder(Path(args.out)):
            print(f"wrote {path}")
        return 0
    folder = Path(args.check)
    if not folder.is_dir():
        raise CliError(f"{folder}: not a directory")
    count, problems = vectors.check_folder(folder)
    for p in problems:
        print(f"mismatch: {p}")
    print(f"{count} entries checked, {len(problems)} mismatches")
    return 1 if problems else 0


def cmd_demo(args: argparse.Namespace) -> int:
    if args.itf is not None and args.trace is None:
        with tempfile.TemporaryDirectory(prefix="mimi-demo-trace-") as tmp:
            args.trace = Path(tmp)
            return _demo(args)
    return _demo(args)


def _demo(args: argparse.Namespace) -> int:
    if not 1 <= args.members <= 100_000:
        raise CliError(f"--members must be 1..100000, got {args.members}")
    result: demo.DemoResult
    if args.http:
        if args.fault is not None:
            raise CliError("--fault runs over the in-memory network only (not with --http)")
        if args.members > 50:
            raise CliError(f"--http: --members must be 1..50, got {args.members}")
        try:
            result = http_demo.run_http_demo(members=args.members, suite=args.suite,
                                             trace=args.trace)
        except (ValueError, RuntimeError) as err:
            raise CliError(str(err)) from None
    else:
        try:
            result = demo.run_demo(members=args.members, suite=args.suite, fault=args.fault,
                                   trace=args.trace)
        except ValueError as err:
            raise CliError(str(err)) from None
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    elif isinstance(result, http_demo.HttpDemoResult):
        print(http_demo.format_text(result))
    else:
        print(demo.format_text(result))
    if args.itf is not None:  # the model behaviour that explains the run's logs
        name = "demo-http" if args.http else f"demo-{args.fault or 'none'}"
        v = validate(sorted(args.trace.glob("*.ndjson")), itf=args.itf, name=name)
        if v.verdict != "accepted":
            raise CliError(f"the demo's logs are not a model behaviour: {v.verdict} at "
                           f"{v.at}: {v.reason}")
    return 1 if result.violations else 0


def _suite(text: str) -> int:
    try:
        return int(CipherSuite.parse(text))
    except (ValueError, TypeError) as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def register(subparsers: Subparsers) -> None:
    """Add `vectors`, `decode` and `demo`; a handler may raise CliError."""
    p = subparsers.add_parser("vectors", help="write or check the MIMI Portability test vectors")
    p.add_argument("--out", metavar="DIR", help="write DIR/mimi-portability{,-invalid}.json")
    p.add_argument("--check", metavar="DIR", help="verify the vector files in DIR")
    p.set_defaults(handler=cmd_vectors)

    p = subparsers.add_parser("decode", help="decode one message and print it as JSON")
    p.add_argument("type", metavar="TYPE", help="struct name as in the draft, any case")
    p.add_argument("hex", metavar="HEX", nargs="?", default="-", help="hex bytes, or - for stdin")
    p.add_argument("--verify-with", metavar="PUBHEX", help="also verify the signature")
    p.add_argument("--suite", metavar="N", help="ciphersuite of --verify-with (1..7)")
    p.set_defaults(handler=cmd_decode)

    p = subparsers.add_parser("demo", help="a whole migration over the in-memory network")
    p.add_argument("--members", type=int, default=5, help="group size (default 5)")
    p.add_argument("--suite", type=_suite, default=1, help="ciphersuite 1..7 (default 1)")
    p.add_argument("--fault", choices=demo.FAULTS, help="let the adversary act")
    p.add_argument("--http", action="store_true",
                   help="over two real servers (HTTPS on free loopback ports), stopped at the end")
    p.add_argument("--trace", type=Path, metavar="DIR",
                   help="write each honest role's log to DIR (docs/trace-format.md; with "
                   "--http, each server's)")
    add_itf_option(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_demo)


# ---------------------------------------------------------------- `verify`


def mls_vectors_dir() -> Path | None:
    """MLS_TEST_VECTORS, else the folder where CI keeps its copy beside the checkout (the
    one .ci/run names), else None."""
    env = os.environ.get("MLS_TEST_VECTORS")
    if env:
        return Path(env)
    beside = REPO.parent / "shared" / "vectors" / "mls"
    return beside if beside.is_dir() else None


def check_committed_vectors() -> tuple[str, str]:
    folder = REPO / "test-vectors"
    if not (folder / vectors.VALID_FILE).is_file():
        return "skipped", "no test-vectors/ folder in this installation"
    count, problems = vectors.check_folder(folder)
    if problems:
        return "fail", f"{len(problems)} mismatches, first: {problems[0]}"
    committed = json.loads((folder / vectors.VALID_FILE).read_text())
    if committed != vectors.valid_vectors():
        return "fail", "regenerated valid vectors differ from the committed ones"
    committed_invalid = json.loads((folder / vectors.INVALID_FILE).read_text())
    if committed_invalid != vectors.invalid_vectors():
        return "fail", "regenerated invalid vectors differ from the committed ones"
    return "pass", f"{count} entries verified; regeneration reproduces them"


def _rfc9420(
    name: str, check: Callable[[list[dict[str, object]]], tuple[int, list[str]]]
) -> tuple[str, str]:
    folder = mls_vectors_dir()
    if folder is None:
        return "skipped", "set MLS_TEST_VECTORS to mls-implementations/test-vectors"
    path = folder / name
    try:
        entries = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        return "fail", f"{path}: {err}"
    count, problems = check(entries)
    if problems:
        return "fail", f"{len(problems)} of {count} fail, first: {problems[0]}"
    return "pass", f"{count} cases"


def check_crypto_basics() -> tuple[str, str]:
    return _rfc9420("crypto-basics.json", interop.check_crypto_basics)


def check_deserialization() -> tuple[str, str]:
    return _rfc9420("deserialization.json", interop.check_deserialization)


def check_demo() -> tuple[str, str]:
    """The implementation: a whole migration per suite, and under every demo fault."""
    runs = [demo.run_demo(members=5, suite=suite) for suite in range(1, 8)]
    runs += [demo.run_demo(members=5, fault=fault) for fault in demo.FAULTS]
    failed = [
        (r.fault or f"suite {int(r.world.suite)}", r.violations) for r in runs if r.violations
    ]
    if failed:
        return "fail", f"{failed[0][0]}: {failed[0][1][0]}"
    return "pass", f"7 suites and {len(demo.FAULTS)} faults: every migration safe and complete"


def verify_checks(*, quick: bool = False) -> list[tuple[str, Check]]:
    """(name, check) pairs for `mimi-portability verify`, the same when quick (under a
    second together)."""
    del quick
    return [
        ("RFC 9420 deserialization vectors", check_deserialization),
        ("RFC 9420 crypto-basics vectors", check_crypto_basics),
        ("MIMI Portability test vectors", check_committed_vectors),
        ("implementation: demo migrations", check_demo),
    ]
