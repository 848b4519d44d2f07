#!/usr/bin/env python3
"""Codec and signing cost of a large MigrationContent, against a plain copy of its bytes.

For a MigrationContent whose group_state is 1 MiB and 16 MiB (pseudo-random bytes), times
`encode()` and `MigrationContent.decode()` and compares each with `bytes(memoryview(data))`
of the encoded message (one copy of the same number of bytes), and times RFC 9420
SignWithLabel (`impl.crypto.sign_with_label`) against a raw signature (`SigningKey.sign`) over
the same signed content.  Every figure is the best of --repeats runs (time.perf_counter).
The goal (decode at most 3x the copy) is printed with the table; --check makes a missed goal
exit 1.

    python3 bench/codec.py                 # suite 1, 1 MiB and 16 MiB
    python3 bench/codec.py --all-suites    # signing for suites 1..7
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from impl import crypto  # noqa: E402
from impl.crypto import CipherSuite, SigningKey  # noqa: E402
from impl.messages import (  # noqa: E402
    MigrationContent,
    MigrationRequest,
    MigrationResponse,
)

MIB = 1024 * 1024
#: The issue's goal: decoding costs at most this many copies of the message.
DECODE_GOAL = 3.0


def best_of(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """The fastest of `repeats` calls of each function, in seconds.  The functions run in
    turn within each repeat, so drift in the machine's load hits all of them alike."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def make_content(group_state_size: int, seed: int = 0) -> MigrationContent:
    """A MigrationContent with `group_state_size` pseudo-random bytes of group state."""
    rng = random.Random(seed)
    request = MigrationRequest(
        source_domain_name=b"source.example",
        target_domain_name=b"target.example",
        group_id=rng.randbytes(32),
        epoch=42,
    )
    response = MigrationResponse(
        migration_request=request, nonce=rng.randbytes(32), signature=rng.randbytes(64)
    )
    return MigrationContent(
        migration_response=response,
        group_state=rng.randbytes(group_state_size),
        signature=rng.randbytes(64),
    )


def codec_row(size: int, repeats: int) -> dict[str, float]:
    """Times (seconds) of copy, encode and decode for one group_state size."""
    message = make_content(size)
    encoded = message.encode()
    if MigrationContent.decode(encoded) != message:
        raise SystemExit("bench/codec.py: decode(encode(x)) != x")
    times = best_of(
        {
            "copy": lambda: bytes(memoryview(encoded)),
            "encode": message.encode,
            "decode": lambda: MigrationContent.decode(encoded),
        },
        repeats,
    )
    return {"bytes": len(encoded), **times}


def sign_row(suite: CipherSuite, size: int, repeats: int) -> dict[str, float]:
    """Times (seconds) of a raw signature and of SignWithLabel over the signed content."""
    message = make_content(size)
    content = message.signed_content()
    key = SigningKey.derive(suite, b"bench/codec.py signing key")
    signature = crypto.sign_with_label(key, message.LABEL, content)
    if not crypto.verify_with_label(suite, key.public_bytes(), message.LABEL, content, signature):
        raise SystemExit(f"bench/codec.py: SignWithLabel does not verify for {suite.name}")
    times = best_of(
        {
            "raw": lambda: key.sign(content),
            "labelled": lambda: crypto.sign_with_label(key, message.LABEL, content),
        },
        repeats,
    )
    return {"bytes": len(content), **times}


def _size_name(size: int) -> str:
    return f"{size // MIB} MiB" if size % MIB == 0 else f"{size} B"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--sizes",
        type=float,
        nargs="+",
        default=[1, 16],
        metavar="MIB",
        help="group_state sizes in MiB (default: 1 16)",
    )
    parser.add_argument("--repeats", type=int, default=7, help="codec repeats (default 7)")
    parser.add_argument("--sign-repeats", type=int, default=5, help="signing repeats (default 5)")
    parser.add_argument("--suite", type=int, default=1, help="cipher suite for signing (default 1)")
    parser.add_argument("--all-suites", action="store_true", help="time signing for suites 1..7")
    parser.add_argument(
        "--check", action="store_true", help=f"exit 1 if decode > {DECODE_GOAL:g}x the copy"
    )
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.sign_repeats < 1 or any(s <= 0 for s in args.sizes):
        parser.error("repeats and sizes must be positive")
    sizes = [round(s * MIB) for s in args.sizes]
    suites = list(CipherSuite) if args.all_suites else [CipherSuite.parse(args.suite)]

    print(f"MigrationContent codec, best of {args.repeats} (time.perf_counter)")
    print(
        f"{'group_state':>11}  {'message B':>10}  {'copy ms':>8}  {'encode ms':>9}  "
        f"{'x copy':>6}  {'decode ms':>9}  {'x copy':>6}"
    )
    worst_decode = 0.0
    for size in sizes:
        row = codec_row(size, args.repeats)
        enc_ratio = row["encode"] / row["copy"]
        dec_ratio = row["decode"] / row["copy"]
        worst_decode = max(worst_decode, dec_ratio)
        print(
            f"{_size_name(size):>11}  {int(row['bytes']):>10}  {row['copy'] * 1e3:>8.3f}  "
            f"{row['encode'] * 1e3:>9.3f}  {enc_ratio:>5.2f}x  "
            f"{row['decode'] * 1e3:>9.3f}  {dec_ratio:>5.2f}x"
        )
    met = worst_decode <= DECODE_GOAL
    print(
        f"goal decode <= {DECODE_GOAL:g}x copy: {'met' if met else 'MISSED'} "
        f"(worst {worst_decode:.2f}x)"
    )

    print()
    print(f"SignWithLabel vs raw SigningKey.sign, best of {args.sign_repeats}")
    print(
        f"{'suite':<52}  {'group_state':>11}  {'sign ms':>9}  {'SignWithLabel ms':>16}  "
        f"{'ratio':>6}"
    )
    for suite in suites:
        for size in sizes:
            row = sign_row(suite, size, args.sign_repeats)
            print(
                f"{f'{suite.value} {suite.name}':<52}  {_size_name(size):>11}  "
                f"{row['raw'] * 1e3:>9.2f}  {row['labelled'] * 1e3:>16.2f}  "
                f"{row['labelled'] / row['raw']:>5.2f}x"
            )
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
