"""Test vectors for other implementers: the generator and, apart from it, the checker.

This package owns the two files `mimi-portability vectors` writes and checks
(test-vectors/README.md describes them): `generate` makes them (`write_folder`,
`valid_vectors`, `invalid_vectors`, `build_migration`), `check` judges a folder of them
(`check_folder`), written without the generator's code so the two do not share a mistake.
The test suite and `verify` compare the committed test-vectors/ with a fresh generation and
run the checker on both.
"""

from .check import check_folder, check_invalid_entry, check_valid_entry
from .generate import (
    EPOCH,
    INVALID_FILE,
    VALID_FILE,
    Migration,
    build_migration,
    invalid_vectors,
    valid_vectors,
    write_folder,
)

__all__ = [
    "EPOCH",
    "INVALID_FILE",
    "VALID_FILE",
    "Migration",
    "build_migration",
    "check_folder",
    "check_invalid_entry",
    "check_valid_entry",
    "invalid_vectors",
    "valid_vectors",
    "write_folder",
]
