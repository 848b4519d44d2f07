"""The MIMI Portability test vectors: generation, the committed copies, and the checker."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from impl import vectors
from impl.codec import DecodeError
from impl.crypto import CipherSuite
from impl.messages import message_type
from impl.vectors import check, generate

REPO = Path(__file__).resolve().parent.parent
COMMITTED = REPO / "test-vectors"


def test_committed_vectors_are_current() -> None:
    assert json.loads((COMMITTED / vectors.VALID_FILE).read_text()) == vectors.valid_vectors()
    assert json.loads((COMMITTED / vectors.INVALID_FILE).read_text()) == vectors.invalid_vectors()


def test_committed_folder_checks_clean() -> None:
    count, problems = vectors.check_folder(COMMITTED)
    assert problems == []
    assert count == 7 + len(vectors.invalid_vectors())


def test_checker_shares_no_code_with_the_generator() -> None:
    # The checker restates the format (file names, fields, signers) instead of importing the
    # generator's tables, so a wrong table in one is a mismatch, not a shared blind spot.
    imported: set[str] = set()
    for node in ast.walk(ast.parse(Path(check.__file__).read_text())):
        if isinstance(node, ast.ImportFrom):
            imported |= {node.module or ""} | {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
    assert imported and not any("generate" in name for name in imported), imported
    assert (check.VALID_FILE, check.INVALID_FILE) == (generate.VALID_FILE, generate.INVALID_FILE)


def test_generation_is_deterministic() -> None:
    assert vectors.valid_vectors() == vectors.valid_vectors()
    assert vectors.invalid_vectors() == vectors.invalid_vectors()


def test_every_suite_and_every_encoding_present() -> None:
    entries = vectors.valid_vectors()
    assert [e["cipher_suite"] for e in entries] == list(range(1, 8))
    for e in entries:
        assert set(e) == {"cipher_suite", "migration_content_hash", *check.PARTIES, *check.STRUCTS}
        for field in check.STRUCTS:
            assert e[field] == e[field].lower()
        assert set(e["source_ds"]) == {"domain", "signature_priv", "signature_pub"}
        assert set(e["client"]) == {"identity", "signature_priv", "signature_pub"}


def test_invalid_vectors_cover_every_struct_and_defect() -> None:
    entries = vectors.invalid_vectors()
    structural = [e for e in entries if "cipher_suite" not in e]
    for cls in check.STRUCTS.values():
        errors = {e["error"] for e in structural if e["type"] == cls.NAME}
        assert any(err.startswith("truncated inside") for err in errors), cls.NAME
        assert {"trailing bytes", "length header with prefix 11"} <= errors, cls.NAME
        assert "absurd declared length (1 GiB)" in errors, cls.NAME
    errors = {e["error"] for e in structural}
    assert any("non-minimal" in e for e in errors)
    assert {"nonce of 31 bytes, not 32", "nonce of 33 bytes, not 32"} <= errors
    signature_cases = [e for e in entries if "cipher_suite" in e]
    assert {e["cipher_suite"] for e in signature_cases} == set(range(1, 8))
    assert {e["error"] for e in signature_cases} == {
        "signature over a tampered field",
        "signed under another label",
        "signed by another key",
    }


def test_truncation_cuts_inside_every_field() -> None:
    # every byte offset where MigrationResponse's fields start or end is crossed by a cut
    m = generate.build_migration(CipherSuite(1))
    encoded = m.response.encode()
    spans = generate._field_spans(type(m.response), encoded)
    cuts = {
        len(bytes.fromhex(e["hex"])) for e in generate._invalid_decoding(type(m.response), encoded)
    }
    for _what, start, n in spans:
        assert any(start <= c < start + max(n, 1) for c in cuts)


@pytest.mark.parametrize("entry", vectors.invalid_vectors()[:60], ids=lambda e: e["error"][:30])
def test_structural_invalid_entries_fail_with_decode_error(entry: dict[str, str]) -> None:
    if "cipher_suite" in entry:
        pytest.skip("signature case")
    with pytest.raises(DecodeError):
        message_type(entry["type"]).decode(bytes.fromhex(entry["hex"]))


def _write(tmp: Path, valid: object, invalid: object) -> Path:
    (tmp / vectors.VALID_FILE).write_text(json.dumps(valid))
    (tmp / vectors.INVALID_FILE).write_text(json.dumps(invalid))
    return tmp


# Negative controls: the checker must catch a wrong folder.


def test_check_catches_a_tampered_valid_encoding(tmp_path: Path) -> None:
    valid = vectors.valid_vectors()
    content = bytearray.fromhex(valid[2]["migration_content"])
    content[-5] ^= 0x01  # inside the signature
    valid[2]["migration_content"] = content.hex()
    _, problems = vectors.check_folder(_write(tmp_path, valid, vectors.invalid_vectors()))
    assert any("migration_content does not verify" in p for p in problems)
    assert any("migration_content_hash is not RefHash" in p for p in problems)


def test_check_catches_inconsistent_messages(tmp_path: Path) -> None:
    valid = vectors.valid_vectors()
    valid[0]["migration_confirmation"] = valid[1]["migration_confirmation"]
    _, problems = vectors.check_folder(_write(tmp_path, valid, vectors.invalid_vectors()))
    assert any("migration_confirmation carries another nonce" in p for p in problems)


def test_check_catches_a_wrong_public_key(tmp_path: Path) -> None:
    valid = vectors.valid_vectors()
    valid[3]["target_ds"]["signature_pub"] = valid[4]["target_ds"]["signature_pub"]
    _, problems = vectors.check_folder(_write(tmp_path, valid, vectors.invalid_vectors()))
    assert any("target_ds.signature_pub does not match" in p for p in problems)


def test_check_catches_an_invalid_entry_that_decodes(tmp_path: Path) -> None:
    valid = vectors.valid_vectors()
    bogus = [{"type": "MigrationRequest", "hex": valid[0]["migration_request"], "error": "x"}]
    _, problems = vectors.check_folder(_write(tmp_path, valid, bogus))
    assert problems == [
        "mimi-portability-invalid.json[0]: MigrationRequest (x): decodes, but must be rejected"
    ]


def test_check_catches_a_signature_case_that_verifies(tmp_path: Path) -> None:
    valid = vectors.valid_vectors()
    bogus = [
        {
            "type": "MigrationResponse",
            "hex": valid[0]["migration_response"],
            "error": "x",
            "cipher_suite": 1,
            "signer_pub": valid[0]["target_ds"]["signature_pub"],
        }
    ]
    _, problems = vectors.check_folder(_write(tmp_path, valid, bogus))
    assert len(problems) == 1 and "verifies, but must not" in problems[0]


def test_check_reports_missing_and_malformed_files(tmp_path: Path) -> None:
    _, problems = vectors.check_folder(tmp_path)
    assert len(problems) == 2 and all("no such file" in p for p in problems)
    (tmp_path / vectors.VALID_FILE).write_text("{not json")
    (tmp_path / vectors.INVALID_FILE).write_text('{"a": 1}')
    _, problems = vectors.check_folder(tmp_path)
    assert "not JSON" in problems[0] and "expected a JSON array" in problems[1]


def test_check_reports_missing_fields_and_bad_hex(tmp_path: Path) -> None:
    valid = vectors.valid_vectors()
    del valid[0]["migration_init"]
    valid[1]["migration_request"] = "zz"
    _, problems = vectors.check_folder(_write(tmp_path, valid, []))
    assert any("missing field migration_init" in p for p in problems)
    assert any("migration_request is not valid hex" in p for p in problems)
