"""The two schemas `--junit` and `--sarif` are validated against (tests/data/PROVENANCE.md).

This module owns loading them: tests/data/junit-10.xsd (the Jenkins xUnit plugin's JUnit
schema, the one pytest's own tests use) and tests/data/sarif-schema-2.1.0.json (the OASIS
SARIF 2.1.0 schema), each checked against the SHA-256 of the published original before a
test uses it, so an edited copy fails the test that reads it, naming the file.
"""

from __future__ import annotations

import hashlib
import io
import json
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).with_name("data")
JUNIT_XSD = DATA / "junit-10.xsd"
JUNIT_XSD_SHA256 = "a1a816f58d1bf95ebabf371994df0b9246dee66ea9572fbec4f9296f1b2c0ff6"
SARIF_SCHEMA = DATA / "sarif-schema-2.1.0.json"
SARIF_SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"


class SchemaError(Exception):
    """A schema file is missing or is not the published one."""


def _checked(path: Path, digest: str) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise SchemaError(f"{path}: {err.strerror}") from None
    got = hashlib.sha256(data).hexdigest()
    if got != digest:
        raise SchemaError(f"{path}: SHA-256 {got}, not the published {digest}")
    return data


@cache
def junit_schema() -> Any:
    import xmlschema

    _checked(JUNIT_XSD, JUNIT_XSD_SHA256)
    return xmlschema.XMLSchema(str(JUNIT_XSD))


@cache
def sarif_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(_checked(SARIF_SCHEMA, SARIF_SCHEMA_SHA256))
    return schema


def validate_junit(xml: bytes | str | Path) -> None:
    """Raise (xmlschema's error, saying where) unless `xml` is valid junit-10.xsd."""
    source: Any = xml
    if isinstance(xml, Path):
        source = str(xml)
    elif isinstance(xml, bytes):
        source = io.BytesIO(xml)
    junit_schema().validate(source)


def validate_sarif(doc: dict[str, Any]) -> None:
    """Raise (jsonschema's error, saying where) unless `doc` is a valid SARIF 2.1.0 log."""
    import jsonschema

    validator = jsonschema.Draft4Validator
    validator(sarif_schema(), format_checker=validator.FORMAT_CHECKER).validate(doc)
