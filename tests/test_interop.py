"""The official RFC 9420 vectors through impl.mls.interop, the checker `verify` uses."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from impl.mls import interop

Vectors = Callable[[str], list[Any]]


def test_deserialization_vectors(mls_vectors: Vectors) -> None:
    count, problems = interop.check_deserialization(mls_vectors("deserialization"))
    assert count > 0 and problems == []


def test_crypto_basics_all_seven_suites(mls_vectors: Vectors) -> None:
    entries = mls_vectors("crypto-basics")
    assert sorted(e["cipher_suite"] for e in entries) == list(range(1, 8))
    count, problems = interop.check_crypto_basics(entries)
    assert count == 14 and problems == []


def test_checker_catches_a_wrong_ref_hash_and_signature(mls_vectors: Vectors) -> None:
    entries = copy.deepcopy(mls_vectors("crypto-basics"))
    entries[0]["ref_hash"]["out"] = "00" * 32
    sig = bytearray.fromhex(entries[1]["sign_with_label"]["signature"])
    sig[-1] ^= 1
    entries[1]["sign_with_label"]["signature"] = sig.hex()
    _, problems = interop.check_crypto_basics(entries)
    assert problems == [
        "suite 1: ref_hash differs",
        "suite 2: the vector's signature does not verify",
    ]


def test_checker_catches_a_wrong_header(mls_vectors: Vectors) -> None:
    entries = copy.deepcopy(mls_vectors("deserialization"))
    entries[1]["length"] += 1
    _, problems = interop.check_deserialization(entries)
    assert len(problems) == 2
