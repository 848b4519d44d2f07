"""Shared pytest helpers.

`mls_vectors`: the RFC 9420 interoperability test vectors of mlswg/mls-implementations
(folder test-vectors/), read from the folder named by the environment variable
MLS_TEST_VECTORS.  The files are never copied into this project.  Unset: the test skips with a
reason saying where to get them.  Set but the file is missing or unreadable: the test fails
(CI sets the variable, so a lost vector must not turn into a silent skip).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

MLS_VECTORS_ENV = "MLS_TEST_VECTORS"
MLS_VECTORS_SKIP_REASON = (
    "MLS_TEST_VECTORS is not set; point it at a checkout of "
    "mlswg/mls-implementations/test-vectors (or ../shared/vectors/mls)"
)

_cache: dict[Path, list[Any]] = {}


def load_mls_vectors(name: str) -> list[Any]:
    """The parsed JSON list of vector file `name` ("crypto-basics" or "crypto-basics.json").

    A relative MLS_TEST_VECTORS is taken relative to the current directory.
    """
    folder = os.environ.get(MLS_VECTORS_ENV, "")
    if not folder:
        pytest.skip(MLS_VECTORS_SKIP_REASON)
    filename = name if name.endswith(".json") else name + ".json"
    path = (Path(folder) / filename).resolve()
    if path in _cache:
        return _cache[path]
    if not path.is_file():
        pytest.fail(
            f"{MLS_VECTORS_ENV}={folder!r} is set but {path} does not exist; "
            "the folder must hold the files of mlswg/mls-implementations/test-vectors",
            pytrace=False,
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        pytest.fail(f"cannot read MLS test vectors {path}: {exc}", pytrace=False)
    if not isinstance(data, list):
        pytest.fail(f"MLS test vectors {path}: expected a JSON array", pytrace=False)
    _cache[path] = data
    return data


@pytest.fixture
def mls_vectors() -> Callable[[str], list[Any]]:
    """`mls_vectors("crypto-basics")` -> the parsed JSON list (see `load_mls_vectors`)."""
    return load_mls_vectors
