"""The `mimi-portability` command line: decode, vectors, verify, and its error contract."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from impl import vectors
from mimi_portability.cli import main

VALID = vectors.valid_vectors()[0]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_decode_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "decode", "MIGRATIONRESPONSE", VALID["migration_response"])
    assert code == 0 and err == ""
    doc = json.loads(out)
    assert doc["type"] == "MigrationResponse"
    request = doc["message"]["migration_request"]
    assert request["source_domain_name"] == "source.example"
    assert len(bytes.fromhex(doc["message"]["nonce"])) == 32


def test_decode_reads_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(VALID["migration_request"] + "\n"))
    code, out, _ = run(capsys, "decode", "migrationrequest", "-")
    assert code == 0 and json.loads(out)["message"]["epoch"] == vectors.EPOCH


def test_decode_verifies_signatures(capsys: pytest.CaptureFixture[str]) -> None:
    pub = VALID["target_ds"]["signature_pub"]
    code, out, _ = run(
        capsys,
        "decode",
        "MigrationResponse",
        VALID["migration_response"],
        "--verify-with",
        pub,
        "--suite",
        "1",
    )
    assert code == 0 and json.loads(out)["signature_valid"] is True
    wrong = VALID["source_ds"]["signature_pub"]
    code, out, err = run(
        capsys,
        "decode",
        "MigrationResponse",
        VALID["migration_response"],
        "--verify-with",
        wrong,
        "--suite",
        "1",
    )
    assert code == 1 and json.loads(out)["signature_valid"] is False
    assert err == "error: MigrationResponse: signature does not verify\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["decode", "MigrationRequest", "zz"], "error: input is not hexadecimal"),
        (["decode", "NoSuchThing", "00"], "error: unknown message type 'NoSuchThing'"),
        (
            ["decode", "MigrationRequest", VALID["migration_request"][:-2]],
            "error: MigrationRequest: MigrationRequest.epoch: needs 8 bytes, 7 remain",
        ),
        (
            ["decode", "MigrationRequest", VALID["migration_request"] + "00"],
            "error: MigrationRequest: MigrationRequest: 1 trailing bytes",
        ),
        (
            ["decode", "MigrationCommitAAD", "c0"],
            "error: MigrationCommitAAD: MigrationCommitAAD.target_ds_domain: "
            "length header with prefix 11",
        ),
        (
            ["decode", "MigrationCommitAAD", "bfffffff00"],
            "error: MigrationCommitAAD: MigrationCommitAAD.target_ds_domain: declared length",
        ),
        (
            ["decode", "MigrationResponse", VALID["migration_response"], "--verify-with", "00"],
            "error: --verify-with needs --suite",
        ),
        (
            [
                "decode",
                "MigrationRequest",
                VALID["migration_request"],
                "--verify-with",
                "00",
                "--suite",
                "1",
            ],
            "error: MigrationRequest carries no signature",
        ),
        (
            [
                "decode",
                "MigrationResponse",
                VALID["migration_response"],
                "--verify-with",
                "00",
                "--suite",
                "9",
            ],
            "error: unknown MLS cipher suite",
        ),
        (["vectors"], "error: give exactly one of --out DIR or --check DIR"),
        (
            ["vectors", "--check", "/nonexistent/folder"],
            "error: /nonexistent/folder: not a directory",
        ),
    ],
)
def test_bad_input_is_one_error_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 1
    assert err.startswith(message), err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_vectors_out_then_check(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "vectors", "--out", str(tmp_path))
    assert code == 0 and "mimi-portability-invalid.json" in out
    code, out, _ = run(capsys, "vectors", "--check", str(tmp_path))
    assert code == 0 and out.strip().endswith("0 mismatches")


def test_vectors_check_fails_on_a_mismatch(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    vectors.write_folder(tmp_path)
    data = json.loads((tmp_path / vectors.VALID_FILE).read_text())
    data[0]["migration_content_hash"] = "00" * 32
    (tmp_path / vectors.VALID_FILE).write_text(json.dumps(data))
    code, out, _ = run(capsys, "vectors", "--check", str(tmp_path))
    assert code == 1 and "mismatch: " in out and out.strip().endswith("2 mismatches")


def test_console_script_runs_as_a_process() -> None:
    exe = Path(sys.executable).parent / "mimi-portability"
    if not exe.exists():
        pytest.skip("console script not installed in this interpreter's environment")
    proc = subprocess.run(
        [str(exe), "decode", "MigrationRequest", "0001"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr


def test_verify_quick_is_the_documented_subset() -> None:
    from mimi_portability import verify

    quick = [name for name, _ in verify.checks(quick=True)]
    full = [name for name, _ in verify.checks()]
    assert quick == [
        "RFC 9420 deserialization vectors",
        "RFC 9420 crypto-basics vectors",
        "MIMI Portability test vectors",
        "implementation: demo migrations",
        "model: reference design holds every property",
        "model: negative control reported violated",
        "diagrams: committed figures are current",
        "lockstep conform (short)",
        "validate: demo logs accepted, an edited log rejected",
    ]
    assert not any(name.startswith("proofs: ") for name in quick)
    assert sum(name.startswith("proofs: ") for name in full) == 4
    assert full[-3:] == ["findings: docs/findings.md is current",
                         "traces: an ITF counterexample replays to its violation",
                         "validate: demo logs accepted, an edited log rejected"]
    assert len(full) == 17 and full[:4] == quick[:4]


def test_verify_reports_a_crashing_check_as_failed(capsys: pytest.CaptureFixture[str]) -> None:
    from mimi_portability import verify

    def crash() -> tuple[str, str]:
        raise RuntimeError("boom")

    rows = verify.run_checks([("fine", lambda: ("pass", "ok")), ("crashes", crash),
                              ("absent", lambda: ("skipped", "nothing to check"))])
    assert [(r.check, r.status) for r in rows] == [
        ("fine", "pass"), ("crashes", "fail"), ("absent", "skipped")]
    assert rows[1].detail == "crashed: RuntimeError: boom"
    table = verify.format_table(rows)
    assert table.splitlines()[0].startswith("check") and "skipped" in table
    assert capsys.readouterr().out.count("\n") == 3
