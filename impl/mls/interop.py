"""Checks against the official RFC 9420 interop vectors (mlswg/mls-implementations).

This module owns reading crypto-basics.json and deserialization.json into lists of
mismatches, so `verify` and the tests judge the same way.  The vector files are never part
of this project: callers pass the parsed JSON (from the folder named by MLS_TEST_VECTORS).
"""

from __future__ import annotations

from typing import Any

from .. import crypto
from ..codec import DecodeError, Reader, encode_length
from ..crypto import CipherSuite, SigningKey


def check_deserialization(entries: list[dict[str, Any]]) -> tuple[int, list[str]]:
    """Every {vlbytes_header, length}: we encode the same header and read back the length."""
    problems = []
    for i, e in enumerate(entries):
        header = bytes.fromhex(str(e["vlbytes_header"]))
        length = int(e["length"])
        if encode_length(length) != header:
            problems.append(f"[{i}] length {length}: we encode {encode_length(length).hex()}")
        try:
            reader = Reader(header)
            got = reader.pull_length_header()
            reader.finish("vlbytes_header")
        except DecodeError as err:
            problems.append(f"[{i}] header {header.hex()}: {err}")
            continue
        if got != length:
            problems.append(f"[{i}] header {header.hex()}: read {got}, expected {length}")
    return len(entries), problems


def check_crypto_basics(entries: list[dict[str, Any]]) -> tuple[int, list[str]]:
    """ref_hash and sign_with_label for every ciphersuite of crypto-basics.json."""
    problems = []
    count = 0
    for e in entries:
        suite = CipherSuite.parse(int(e["cipher_suite"]))
        rh = e["ref_hash"]
        count += 1
        got = crypto.ref_hash(suite, str(rh["label"]).encode(), bytes.fromhex(rh["value"]))
        if got.hex() != rh["out"]:
            problems.append(f"suite {int(suite)}: ref_hash differs")
        sw = e["sign_with_label"]
        count += 1
        label = str(sw["label"]).encode()
        content = bytes.fromhex(sw["content"])
        pub = bytes.fromhex(sw["pub"])
        key = SigningKey.from_private_bytes(suite, bytes.fromhex(sw["priv"]))
        if key.public_bytes() != pub:
            problems.append(f"suite {int(suite)}: public key derived from priv differs")
        if not crypto.verify_with_label(suite, pub, label, content, bytes.fromhex(sw["signature"])):
            problems.append(f"suite {int(suite)}: the vector's signature does not verify")
        own = crypto.sign_with_label(key, label, content)
        if not crypto.verify_with_label(suite, pub, label, content, own):
            problems.append(f"suite {int(suite)}: our own SignWithLabel does not verify")
    return count, problems
