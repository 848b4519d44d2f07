"""Hypothesis strategies for every struct of impl.messages and impl.group_state.

`STRATEGIES` maps each name of `impl.messages.MESSAGE_TYPES` plus "GroupState" to a strategy
of valid instances; `STRUCT_CLASSES` maps the same names to the classes.  Used by the codec,
message, lockstep and vector tests.

Choices (docs/profile.md section 1, "Bytes on the wire"):

* domain names are valid lowercase DNS names (1..253 bytes, labels 1..63 of [a-z0-9-] without
  a leading or trailing '-'), including the extremes (63-byte labels, 253-byte names);
* nonces are exactly 32 bytes; epochs span the whole uint64 range;
* variable-length fields (group ids, group states, signatures, identities, keys, hashes) have
  lengths on both sides of 63/64 and 16383/16384, so all three sizes of the RFC 9420 length
  header occur.  Long values are expanded from a small drawn seed (Hypothesis' own buffer
  stays small, so no health check trips on 16 KiB examples).
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import strategies as st

from impl.group_state import GroupState, Member
from impl.messages import (
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

__all__ = [
    "BOUNDARY_SIZES",
    "STRATEGIES",
    "STRUCT_CLASSES",
    "domain_labels",
    "domain_names",
    "epochs",
    "group_states",
    "members",
    "migration_commit_aads",
    "migration_confirmations",
    "migration_contents",
    "migration_inits",
    "migration_requests",
    "migration_responses",
    "nonces",
    "target_migration_completes",
    "target_migration_rejecteds",
    "uint16s",
    "uint32s",
    "uint64s",
    "vl_bytes",
]

#: Lengths around the switch points of the RFC 9420 length header (1 byte up to 63, 2 bytes
#: from 64 up to 16383, 4 bytes from 16384).
BOUNDARY_SIZES = (0, 1, 62, 63, 64, 65, 16382, 16383, 16384, 16385)

_LABEL_EDGE = "abcdefghijklmnopqrstuvwxyz0123456789"
_LABEL_INNER = _LABEL_EDGE + "-"

uint16s = st.integers(min_value=0, max_value=(1 << 16) - 1)
uint32s = st.integers(min_value=0, max_value=(1 << 32) - 1)
uint64s = st.integers(min_value=0, max_value=(1 << 64) - 1)
#: Epochs: the whole uint64 range, with its ends drawn often.
epochs = st.one_of(st.sampled_from([0, 1, (1 << 63), (1 << 64) - 1]), uint64s)


def _expand(size: int, seed: int) -> bytes:
    """`size` pseudo-random bytes determined by `seed`."""
    return random.Random(seed).randbytes(size)


def vl_bytes(*, max_small: int = 80, fixed_sizes: tuple[int, ...] = BOUNDARY_SIZES) -> Any:
    """Bytes for an `opaque x<V>` field: short arbitrary bytes, or a pseudo-random value of a
    length near a header-size boundary (63/64, 16383/16384)."""
    return st.one_of(
        st.binary(max_size=max_small),
        st.builds(_expand, st.sampled_from(fixed_sizes), st.integers(0, 2**32 - 1)),
    )


nonces = st.binary(min_size=NONCE_SIZE, max_size=NONCE_SIZE)


def _label(first: str, middle: str, last: str | None) -> str:
    return first + middle + (last or "")


#: One DNS label: 1..63 of [a-z0-9-], not starting or ending with '-'.
domain_labels = st.one_of(
    st.sampled_from(["a", "0", "example", "a-b", "x" * 63, "a" + "-" * 61 + "z"]),
    st.builds(
        _label,
        st.sampled_from(_LABEL_EDGE),
        st.text(_LABEL_INNER, max_size=61),
        st.one_of(st.none(), st.sampled_from(_LABEL_EDGE)),
    ).filter(lambda s: not s.endswith("-")),
)


def _join_labels(labels: list[str]) -> bytes:
    while len(labels) > 1 and len(".".join(labels)) > 253:
        labels = labels[:-1]
    return ".".join(labels).encode("ascii")


#: Valid domain names as profile.md defines them (bytes), including 253-byte names.
domain_names = st.one_of(
    st.sampled_from(
        [
            b"example.com",
            b"a",
            b"ds-1.example.org",
            b"xn--bcher-kva.example",
            (("a" * 63 + ".") * 3 + "b" * 61).encode(),  # 253 bytes, 63-byte labels
        ]
    ),
    st.lists(domain_labels, min_size=1, max_size=5).map(_join_labels),
)

members_list = st.lists(uint32s, unique=True, max_size=6).flatmap(
    lambda idx: st.tuples(
        *(
            st.builds(
                Member,
                leaf_index=st.just(i),
                identity=vl_bytes(max_small=40),
                signature_key=st.one_of(st.binary(min_size=32, max_size=133), vl_bytes()),
            )
            for i in sorted(idx)
        )
    )
)

#: One Member (not in STRATEGIES: it is no message of its own).
members = st.builds(
    Member, leaf_index=uint32s, identity=vl_bytes(max_small=40), signature_key=vl_bytes()
)

#: GroupState: sorted unique leaf indices; any uint16 suite (not only 1..7: the codec does
#: not check the suite).
group_states = st.builds(
    GroupState,
    group_id=vl_bytes(),
    epoch=epochs,
    cipher_suite=st.one_of(st.integers(1, 7), uint16s),
    members=members_list,
)

migration_requests = st.builds(
    MigrationRequest,
    source_domain_name=domain_names,
    target_domain_name=domain_names,
    group_id=vl_bytes(),
    epoch=epochs,
)

migration_responses = st.builds(
    MigrationResponse,
    migration_request=migration_requests,
    nonce=nonces,
    signature=vl_bytes(),
)

migration_inits = st.builds(
    MigrationInit, migration_response=migration_responses, signature=vl_bytes()
)

migration_commit_aads = st.builds(MigrationCommitAAD, target_ds_domain=domain_names)

#: group_state: an encoded GroupState or arbitrary bytes (the field is opaque on the wire).
_group_state_bytes = st.one_of(group_states.map(GroupState.encode), vl_bytes())

migration_contents = st.builds(
    MigrationContent,
    migration_response=migration_responses,
    group_state=_group_state_bytes,
    signature=vl_bytes(),
)

#: Hashes: 32/48/64 bytes (the suites' Nh) or any length the wire allows.
_hashes = st.one_of(
    st.sampled_from([32, 48, 64]).flatmap(lambda n: st.binary(min_size=n, max_size=n)),
    vl_bytes(),
)

target_migration_completes = st.builds(
    TargetMigrationComplete, migration_content_hash=_hashes, signature=vl_bytes()
)

migration_confirmations = st.builds(
    MigrationConfirmation,
    domain_name=domain_names,
    nonce=nonces,
    group_id=vl_bytes(),
    signature=vl_bytes(),
)

target_migration_rejecteds = st.builds(
    TargetMigrationRejected,
    migration_content_hash=_hashes,
    reason=st.one_of(st.integers(1, 5), uint16s),
    signature=vl_bytes(),
)

#: Struct name -> strategy of valid instances: all of MESSAGE_TYPES plus GroupState.
STRATEGIES: dict[str, Any] = {
    "MigrationRequest": migration_requests,
    "MigrationResponse": migration_responses,
    "MigrationInit": migration_inits,
    "MigrationCommitAAD": migration_commit_aads,
    "MigrationContent": migration_contents,
    "TargetMigrationComplete": target_migration_completes,
    "MigrationConfirmation": migration_confirmations,
    "TargetMigrationRejected": target_migration_rejecteds,
    "GroupState": group_states,
}

#: Struct name -> class, for the same names as STRATEGIES.
STRUCT_CLASSES: dict[str, type[Struct]] = {**MESSAGE_TYPES, "GroupState": GroupState}

_missing = set(MESSAGE_TYPES) - set(STRATEGIES)
if _missing:  # a struct added to MESSAGE_TYPES without a strategy: fail loudly at import
    raise RuntimeError(f"tests/strategies.py has no strategy for {sorted(_missing)}")


#: Byte values that hit the length-header prefixes (00/01/10/11) and their boundaries.
EDGE_BYTES = (0x00, 0x01, 0x02, 0x03, 0x3F, 0x40, 0x7F, 0x80, 0xBF, 0xC0, 0xFF)


@st.composite
def mutated_bytes(draw: st.DrawFn, base: st.SearchStrategy[bytes], min_edits: int = 1) -> bytes:
    """Bytes from `base` with min_edits..4 random edits: bit flips, byte sets, truncations,
    insertions and deletions (the decoders' fuzz input)."""
    buf = bytearray(draw(base))
    ops = st.sampled_from(["flip", "set", "truncate", "insert", "delete"])
    for op in draw(st.lists(ops, min_size=min_edits, max_size=4)):
        n = len(buf)
        if op == "flip" and n:
            buf[draw(st.integers(0, n - 1))] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and n:
            buf[draw(st.integers(0, n - 1))] = draw(st.sampled_from(EDGE_BYTES))
        elif op == "truncate":
            del buf[draw(st.integers(0, n)) :]
        elif op == "insert":
            i = draw(st.integers(0, n))
            buf[i:i] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete" and n:
            i = draw(st.integers(0, n - 1))
            del buf[i : i + draw(st.integers(1, 16))]
    return bytes(buf)
