"""The `mimi-portability` command line: one argparse front over every part of the toolkit.

This module owns argument parsing and the translation of errors into one-line messages and
exit codes (0 success, 1 a check failed or input was rejected, 2 a usage error).  Each
subcommand's work lives beside the code it drives (impl.vectors, impl.verify, ...), imported
lazily so `decode` does not pay for Z3.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

Handler = Callable[[argparse.Namespace], int]


class CliError(Exception):
    """Bad input from the command line: printed as `error: ...`, exit 1."""


def _read_hex(arg: str) -> bytes:
    text = sys.stdin.read() if arg == "-" else arg
    text = "".join(text.split())
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise CliError("input is not hexadecimal") from None


def cmd_decode(args: argparse.Namespace) -> int:
    from . import signing
    from .codec import DecodeError
    from .crypto import CipherSuite
    from .messages import SignedStruct, message_type, to_json

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
    from . import vectors

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


def cmd_verify(args: argparse.Namespace) -> int:
    from . import verify

    return verify.run(quick=args.quick)


def cmd_demo(args: argparse.Namespace) -> int:
    from . import demo

    if not 1 <= args.members <= 100_000:
        raise CliError(f"--members must be 1..100000, got {args.members}")
    try:
        result = demo.run_demo(members=args.members, suite=args.suite, fault=args.fault)
    except ValueError as err:
        raise CliError(str(err)) from None
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        print(demo.format_text(result))
    return 1 if result.violations else 0


def _suite(text: str) -> int:
    from .crypto import CipherSuite

    try:
        return int(CipherSuite.parse(text))
    except (ValueError, TypeError) as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mimi-portability",
        description="Reference toolkit for MIMI Portability (draft-kohbrok-mimi-portability).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("verify", help="run every check and print one summary table")
    p.add_argument("--quick", action="store_true", help="smaller bounds, for a fast look")
    p.set_defaults(handler=cmd_verify)

    p = sub.add_parser("vectors", help="write or check the MIMI Portability test vectors")
    p.add_argument("--out", metavar="DIR", help="write DIR/mimi-portability{,-invalid}.json")
    p.add_argument("--check", metavar="DIR", help="verify the vector files in DIR")
    p.set_defaults(handler=cmd_vectors)

    p = sub.add_parser("decode", help="decode one message and print it as JSON")
    p.add_argument("type", metavar="TYPE", help="struct name as in the draft, any case")
    p.add_argument("hex", metavar="HEX", nargs="?", default="-", help="hex bytes, or - for stdin")
    p.add_argument("--verify-with", metavar="PUBHEX", help="also verify the signature")
    p.add_argument("--suite", metavar="N", help="ciphersuite of --verify-with (1..7)")
    p.set_defaults(handler=cmd_decode)

    from .demo import FAULTS

    p = sub.add_parser("demo", help="a whole migration over the in-memory network")
    p.add_argument("--members", type=int, default=5, help="group size (default 5)")
    p.add_argument("--suite", type=_suite, default=1, help="ciphersuite 1..7 (default 1)")
    p.add_argument("--fault", choices=FAULTS, help="let the adversary act")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_demo)

    for module in EXTENSIONS:
        importlib.import_module(module).register(sub)
    return parser


#: The parts of the toolkit that add their own subcommands (check, variants, diagrams, ...).
EXTENSIONS = ("model.commands", "proofs.commands", "diagrams.commands", "impl.lockstep.commands")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except CliError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
