"""The HTTP binding's bytes, statuses and configuration, without a server (docs/wire.md).

Round trips and strict decoding of the TransactionEnvelope and the queue structs, the
transport signature (and that a flipped byte breaks it), the status of every refusal code
of impl/errors.py, the config reader's errors (plain HTTP off loopback among them) and the
MIMI_CRASH_AT parser.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from impl.codec import DecodeError
from impl.crypto import CipherSuite, SigningKey
from impl.errors import ERRORS
from impl.http import wire
from impl.http.config import ConfigError, load_ds_config
from impl.http.server import crash_hook_from_env
from impl.http.wire import QueueBatch, QueueEntry, QueueRequest, TransactionEnvelope, WireType
from impl.http.world import init_world
from impl.storage.driver import CrashPoint

REPO = Path(__file__).resolve().parents[1]

names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40).map(
    str.encode).filter(lambda b: len(b) <= wire.MAX_NAME)
envelopes = st.builds(
    TransactionEnvelope, version=st.just(wire.VERSION), type=st.sampled_from(list(WireType)),
    sender=names, recipient=names, cipher_suite=st.integers(0, 0xFFFF),
    body=st.binary(max_size=300), auth_suite=st.integers(0, 0xFFFF),
    signature=st.binary(max_size=132))


@given(envelopes)
@settings(max_examples=200, deadline=None)
def test_envelope_round_trip_and_strictness(env: TransactionEnvelope) -> None:
    data = env.encode()
    assert TransactionEnvelope.decode(data) == env
    with pytest.raises(DecodeError):
        TransactionEnvelope.decode(data + b"\x00")
    with pytest.raises(DecodeError):
        TransactionEnvelope.decode(data[:-1])


def test_unknown_type_and_version_do_not_decode() -> None:
    good = TransactionEnvelope(version=1, type=WireType.commit, sender=b"a", recipient=b"b",
                               cipher_suite=0, body=b"x").encode()
    assert TransactionEnvelope.decode(good).type is WireType.commit
    for bad, reason in ((good[:2] + b"\x63" + good[3:], "unknown WireType 99"),
                        (b"\x00\x02" + good[2:], "version 2")):
        with pytest.raises(DecodeError, match=reason):
            TransactionEnvelope.decode(bad)


def test_queue_structs_round_trip() -> None:
    inner = TransactionEnvelope(version=1, type=WireType.fanout, sender=b"ds1.example",
                                recipient=b"m@x", cipher_suite=0, body=b"commit")
    batch = QueueBatch(entries=(QueueEntry(id=1, envelope=inner),
                                QueueEntry(id=2**40, envelope=inner)))
    assert QueueBatch.decode(batch.encode()) == batch
    request = QueueRequest(after=5, timestamp_ms=1, max_entries=3)
    assert QueueRequest.decode(request.encode()) == request


@pytest.mark.parametrize("suite", [int(s) for s in CipherSuite])
def test_transport_signature(suite: int) -> None:
    key = SigningKey.derive(CipherSuite(suite), b"wire test")
    other = SigningKey.derive(CipherSuite(suite), b"someone else")
    env = TransactionEnvelope(version=1, type=WireType.migration_request, sender=b"m@x",
                              recipient=b"ds1.example", cipher_suite=suite,
                              body=b"request").signed(key)
    assert env.auth_suite == suite and env.verify(key.public_bytes())
    assert not env.verify(other.public_bytes())
    data = bytearray(env.encode())
    data[10] ^= 1  # inside sender/recipient: still decodes, no longer verifies
    tampered = TransactionEnvelope.decode(bytes(data))
    assert not tampered.verify(key.public_bytes())


def test_every_refusal_code_has_its_status() -> None:
    assert set(ERRORS) <= set(wire.STATUS)
    expected = {"malformed": 400, "not_authorized": 403, "unknown_group": 404,
                "wrong_epoch": 409, "group_locked": 409, "too_large": 413,
                "group_moved": 421}
    assert {code: wire.STATUS[code] for code in expected} == expected
    assert all(400 <= status < 500 for status in wire.STATUS.values())
    assert not any(300 <= status < 400 for status in wire.STATUS.values())


def test_kinds_and_wire_types_are_one_to_one() -> None:
    assert len(wire.KIND_TYPE) == len(set(wire.KIND_TYPE.values())) == 10


# -- configuration ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cfg") / "world"
    init_world(folder, domains=["ds1.example", "ds2.example"], clients=["m@client.example"])
    return folder


def _edit(world_dir: Path, tmp_path: Path, old: str, new: str) -> Path:
    text = (world_dir / "ds1.example.toml").read_text()
    assert old in text
    path = world_dir / f"edited-{uuid.uuid4().hex}.toml"  # beside the keys it names
    path.write_text(text.replace(old, new, 1))
    return path


def test_a_written_config_loads(world_dir: Path) -> None:
    config = load_ds_config(world_dir / "ds1.example.toml")
    assert config.domain == "ds1.example" and config.scheme == "https"
    assert set(config.keys) == set(range(1, 8)) and set(config.peers) == {"ds2.example"}
    assert "m@client.example" in config.clients


@pytest.mark.parametrize(("old", "new", "message"), [
    ('listen = "127.0.0.1:', 'listen = "10.1.2.3:', "plain HTTP is allowed only on a loopback"),
    ('listen = "127.0.0.1:', 'listen = "127.0.0.1', "is not HOST:PORT"),
    ('domain = "ds1.example"', 'domain = "DS1"', "domain"),
    ('domain = "ds1.example"', 'domain = "ds1.example"\nlisten_on = 1', "listen_on: unknown key"),
    ('state = "state/ds1.example.sqlite"', "state = 3", "state: must be a string"),
    ('1 = "keys/ds1.example.suite1.key"', '1 = "keys/none.key"', "no such file"),
    ('2 = "keys/ds1.example.suite2.key"', '2 = "keys/ds1.example.suite1.key"', "suite 1"),
])
def test_config_errors(world_dir: Path, tmp_path: Path, old: str, new: str,
                       message: str) -> None:
    path = _edit(world_dir, tmp_path, old, new)
    if "10.1.2.3" in new:  # plain HTTP: drop [tls] as well
        text = path.read_text()
        path.write_text(text[:text.index("[tls]")])
    with pytest.raises(ConfigError, match=message):
        load_ds_config(path)


def test_serve_refuses_a_bad_config_with_one_line(world_dir: Path) -> None:
    path = world_dir / "missing.toml"
    done = subprocess.run([sys.executable, "-m", "mimi_portability", "serve", "--config",
                           str(path)], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [f"error: {path}: no such file"]
    assert not (world_dir / "state" / "missing.sqlite").exists()


def test_world_init_refuses_a_folder_in_use(world_dir: Path) -> None:
    with pytest.raises(ValueError, match="not an empty folder"):
        init_world(world_dir, domains=["ds1.example"], clients=[])


def test_crash_at_parser() -> None:
    assert crash_hook_from_env(None) is None and crash_hook_from_env("") is None
    assert crash_hook_from_env("after_commit:3") is not None
    for bad in ("after_comit:1", "after_commit:0", "after_commit:x"):
        with pytest.raises(ValueError, match="MIMI_CRASH_AT"):
            crash_hook_from_env(bad)
    assert {p.value for p in CrashPoint} == {"before_commit", "after_commit", "mid_send",
                                            "after_send", "after_mark"}
