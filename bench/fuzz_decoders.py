#!/usr/bin/env python3
"""Feed N random and mutated inputs into every decoder; only DecodeError may come out.

The inputs are deterministic from --seed: a quarter are pure random bytes, the rest are valid
encodings (generated once at start-up, for every struct, with field lengths on both sides of
the 63/64 and 16383/16384 header boundaries) with one to four edits: bit flips, bytes set to
header-significant values, truncations, insertions, deletions, duplicated chunks and splices
of two encodings.  Input i goes to decoder i mod D (the messages of impl.messages.MESSAGE_TYPES,
GroupState and Member), and a seed of any struct may be mutated for any decoder.

A failure is an exception other than DecodeError, or an input that decodes but does not
re-encode to exactly the same bytes; each is printed with the decoder and the input's hex.
Prints the count per decoder (with how many were accepted), the DecodeError reasons, the
total, the elapsed seconds and the inputs per second; exits 1 on any failure.

    python3 bench/fuzz_decoders.py 1000000 --seed 1
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from impl.codec import DecodeError  # noqa: E402
from impl.group_state import GroupState, Member  # noqa: E402
from impl.messages import (  # noqa: E402
    MESSAGE_TYPES,
    NONCE_SIZE,
    MigrationCommitAAD,
    MigrationConfirmation,
    MigrationContent,
    MigrationInit,
    MigrationRequest,
    MigrationResponse,
    Struct,
    TargetMigrationComplete,
    TargetMigrationRejected,
)

#: Every decoder under test, by name.
DECODERS: dict[str, type[Struct]] = {**MESSAGE_TYPES, "GroupState": GroupState, "Member": Member}

#: Byte values that matter to the length header (prefix bits 00/01/10/11 and boundaries).
INTERESTING = bytes([0x00, 0x01, 0x20, 0x3F, 0x40, 0x41, 0x7F, 0x80, 0x81, 0xBF, 0xC0, 0xFF])

#: Lengths for variable-length fields of the seed structs.
SEED_SIZES = (0, 1, 5, 32, 63, 64, 65, 200, 16383, 16384)

_MAX_FAILURES_SHOWN = 20
_MAX_HEX = 4096


# --- valid seed structs (deterministic) ---------------------------------------------------


def _label(rng: random.Random) -> str:
    alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
    n = rng.choice((1, 2, 7, 63))
    if n == 1:
        return rng.choice(alnum)
    inner = "".join(rng.choice(alnum + "-") for _ in range(n - 2))
    return rng.choice(alnum) + inner + rng.choice(alnum)


def _domain(rng: random.Random) -> bytes:
    labels = [_label(rng) for _ in range(rng.randint(1, 4))]
    while len(".".join(labels)) > 253:
        labels.pop()
    return ".".join(labels).encode()


def _vl(rng: random.Random, small: bool = False) -> bytes:
    """Bytes for an opaque<V> field; `small` keeps it under 64 bytes."""
    # Lengths of 64 and more are rarer: a long value makes every mutation of its seed cost
    # a copy.
    wide = not small and rng.random() < 0.2
    return rng.randbytes(rng.choice(SEED_SIZES if wide else SEED_SIZES[:5]))


def _epoch(rng: random.Random) -> int:
    return rng.choice((0, 1, rng.getrandbits(64), (1 << 64) - 1))


def _request(rng: random.Random) -> MigrationRequest:
    return MigrationRequest(
        source_domain_name=_domain(rng),
        target_domain_name=_domain(rng),
        group_id=_vl(rng),
        epoch=_epoch(rng),
    )


def _response(rng: random.Random) -> MigrationResponse:
    return MigrationResponse(
        migration_request=_request(rng), nonce=rng.randbytes(NONCE_SIZE), signature=_vl(rng)
    )


def _member(rng: random.Random, leaf_index: int) -> Member:
    return Member(leaf_index=leaf_index, identity=_vl(rng, True), signature_key=_vl(rng, True))


def _group_state(rng: random.Random) -> GroupState:
    indices = sorted(rng.sample(range(1 << 32), rng.randint(0, 4)))
    return GroupState(
        group_id=_vl(rng, True),
        epoch=_epoch(rng),
        cipher_suite=rng.randint(1, 7),
        members=tuple(_member(rng, i) for i in indices),
    )


def _hash(rng: random.Random) -> bytes:
    return rng.randbytes(rng.choice((32, 48, 64))) if rng.random() < 0.8 else _vl(rng)


_SEED_MAKERS: dict[str, Callable[[random.Random], Struct]] = {
    "MigrationRequest": _request,
    "MigrationResponse": _response,
    "MigrationInit": lambda rng: MigrationInit(
        migration_response=_response(rng), signature=_vl(rng)
    ),
    "MigrationCommitAAD": lambda rng: MigrationCommitAAD(target_ds_domain=_domain(rng)),
    "MigrationContent": lambda rng: MigrationContent(
        migration_response=_response(rng),
        group_state=_group_state(rng).encode() if rng.random() < 0.7 else _vl(rng),
        signature=_vl(rng),
    ),
    "TargetMigrationComplete": lambda rng: TargetMigrationComplete(
        migration_content_hash=_hash(rng), signature=_vl(rng)
    ),
    "MigrationConfirmation": lambda rng: MigrationConfirmation(
        domain_name=_domain(rng),
        nonce=rng.randbytes(NONCE_SIZE),
        group_id=_vl(rng),
        signature=_vl(rng),
    ),
    "TargetMigrationRejected": lambda rng: TargetMigrationRejected(
        migration_content_hash=_hash(rng),
        reason=rng.choice((1, 2, 3, 4, 5, rng.getrandbits(16))),
        signature=_vl(rng),
    ),
    "GroupState": _group_state,
    "Member": lambda rng: _member(rng, rng.getrandbits(32)),
}


def make_seeds(rng: random.Random, per_struct: int) -> dict[str, list[bytes]]:
    """`per_struct` valid encodings of every decoder's struct, each checked to round-trip."""
    missing = set(DECODERS) - set(_SEED_MAKERS)
    if missing:
        raise SystemExit(f"fuzz_decoders: no seed maker for {sorted(missing)}")
    seeds: dict[str, list[bytes]] = {}
    for name, make in _SEED_MAKERS.items():
        encodings = []
        for _ in range(per_struct):
            encoded = make(rng).encode()
            if DECODERS[name].decode(encoded).encode() != encoded:
                raise SystemExit(f"fuzz_decoders: seed {name} does not round-trip")
            encodings.append(encoded)
        seeds[name] = encodings
    return seeds


# --- inputs ---------------------------------------------------------------------------------


def mutate(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    """One to four random edits of `data` (another encoding from `pool` for splices)."""
    buf = bytearray(data)
    for _ in range(1 + (rng.getrandbits(2) if rng.getrandbits(1) else 0)):
        n = len(buf)
        op = rng.getrandbits(3)
        if op <= 1 and n:  # flip one bit
            buf[rng.randrange(n)] ^= 1 << rng.getrandbits(3)
        elif op == 2 and n:  # set a byte to a header-significant value
            buf[rng.randrange(n)] = INTERESTING[rng.randrange(len(INTERESTING))]
        elif op == 3:  # truncate
            del buf[rng.randrange(n + 1) :]
        elif op == 4:  # insert random bytes
            i = rng.randrange(n + 1)
            buf[i:i] = rng.randbytes(1 + rng.getrandbits(3))
        elif op == 5 and n:  # delete a range
            i = rng.randrange(n)
            del buf[i : i + 1 + rng.getrandbits(4)]
        elif op == 6 and n:  # duplicate a chunk in place
            i = rng.randrange(n)
            buf[i:i] = buf[i : i + 1 + rng.getrandbits(5)]
        else:  # splice: a prefix of this with a suffix of another encoding
            other = pool[rng.randrange(len(pool))]
            buf = buf[: rng.randrange(n + 1)] + other[rng.randrange(len(other) + 1) :]
    return bytes(buf)


def random_input(rng: random.Random) -> bytes:
    size = rng.getrandbits(6) if rng.getrandbits(2) else rng.randrange(400)
    return rng.randbytes(size)


# --- the run --------------------------------------------------------------------------------


def run(
    n: int, seed: int, *, seeds_per_struct: int = 24, out: Callable[[str], None] = print
) -> int:
    """Run `n` inputs; print the report through `out`; return the number of failures."""
    rng = random.Random(seed)
    seeds = make_seeds(rng, seeds_per_struct)
    pool = [e for encodings in seeds.values() for e in encodings]
    names = list(DECODERS)
    decoders = [DECODERS[name].decode for name in names]
    own_seeds = [seeds[name] for name in names]
    d = len(names)
    fed = [0] * d
    accepted = [0] * d
    reasons: Counter[str] = Counter()
    failures: list[tuple[str, str, bytes]] = []
    failure_count = 0

    start = time.perf_counter()
    for i in range(n):
        k = i % d
        choice = rng.getrandbits(3)
        if choice <= 1:  # 1/4: pure random bytes
            data = random_input(rng)
        elif choice <= 5:  # 1/2: a mutation of this decoder's own struct
            own = own_seeds[k]
            data = mutate(rng, own[rng.randrange(len(own))], pool)
        else:  # 1/4: a mutation of any struct's encoding
            data = mutate(rng, pool[rng.randrange(len(pool))], pool)
        fed[k] += 1
        try:
            value = decoders[k](data)
        except DecodeError as err:
            reasons[err.reason] += 1
            continue
        except Exception as err:  # the failure this bench exists to find
            failure_count += 1
            if len(failures) < _MAX_FAILURES_SHOWN:
                failures.append((names[k], f"{type(err).__name__}: {err}", data))
            continue
        accepted[k] += 1
        if value.encode() != data:
            failure_count += 1
            if len(failures) < _MAX_FAILURES_SHOWN:
                failures.append((names[k], "decoded but re-encodes differently", data))
    elapsed = time.perf_counter() - start

    width = max(len(name) for name in names)
    out(f"fuzz_decoders: N={n} seed={seed} ({seeds_per_struct} valid seeds per struct)")
    out(f"{'decoder':<{width}}  {'inputs':>10}  {'accepted':>9}")
    for k, name in enumerate(names):
        out(f"{name:<{width}}  {fed[k]:>10}  {accepted[k]:>9}")
    out("DecodeError reasons: " + ", ".join(f"{r}={c}" for r, c in sorted(reasons.items())))
    rate = n / elapsed if elapsed > 0 else float("inf")
    out(f"total: {n} inputs in {elapsed:.2f} s, {rate:,.0f} inputs/s")
    for name, what, data in failures:
        shown = data.hex() if len(data) <= _MAX_HEX else data[:_MAX_HEX].hex() + "..."
        out(f"FAILURE {name}: {what}\n  input ({len(data)} bytes): {shown}")
    if failure_count:
        out(f"{failure_count} failure(s)" + (" (first shown)" if failures else ""))
    else:
        out("no failures: every rejection was a DecodeError")
    return failure_count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("n", type=int, help="number of inputs")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--seeds-per-struct",
        type=int,
        default=24,
        help="valid encodings generated per struct to mutate (default 24)",
    )
    args = parser.parse_args(argv)
    if args.n < 0 or args.seeds_per_struct < 1:
        parser.error("n must be >= 0 and --seeds-per-struct >= 1")
    return 1 if run(args.n, args.seed, seeds_per_struct=args.seeds_per_struct) else 0


if __name__ == "__main__":
    sys.exit(main())
