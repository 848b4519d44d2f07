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

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from impl.codec import DecodeError
from impl.crypto import CipherSuite, SigningKey
from impl.errors import ERRORS
from impl.http import wire
from impl.http.client import post_sync
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
    assert config.answer_lifetime == 86400.0


def test_the_answer_lifetime_is_configuration(world_dir: Path, tmp_path: Path) -> None:
    path = _edit(world_dir, tmp_path, 'domain = "ds1.example"',
                 'domain = "ds1.example"\nanswer_lifetime = 3600.0')
    assert load_ds_config(path).answer_lifetime == 3600.0


@pytest.mark.parametrize(("old", "new", "message"), [
    ('listen = "127.0.0.1:', 'listen = "10.1.2.3:', "plain HTTP is allowed only on a loopback"),
    ('listen = "127.0.0.1:', 'listen = "127.0.0.1', "is not HOST:PORT"),
    ('domain = "ds1.example"', 'domain = "DS1"', "domain"),
    ('domain = "ds1.example"', 'domain = "ds1.example"\nlisten_on = 1', "listen_on: unknown key"),
    ('state = "state/ds1.example.sqlite"', "state = 3", "state: must be a string"),
    ('1 = "keys/ds1.example.suite1.key"', '1 = "keys/none.key"', "no such file"),
    ('2 = "keys/ds1.example.suite2.key"', '2 = "keys/ds1.example.suite1.key"', "suite 1"),
    ('domain = "ds1.example"', 'domain = "ds1.example"\nanswer_lifetime = 0.5',
     "answer_lifetime"),
    ('domain = "ds1.example"', 'domain = "ds1.example"\nanswer_lifetime = "a day"',
     "answer_lifetime"),
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


def test_serve_refuses_a_broken_state_file_and_writes_nothing(tmp_path: Path) -> None:
    world = init_world(tmp_path / "w", domains=["ds1.example"], clients=[], tls=False)
    state = tmp_path / "w" / "state"
    (state / "ds1.example.sqlite").write_text("not a database")
    before = sorted(p.name for p in state.iterdir())
    done = subprocess.run([sys.executable, "-m", "mimi_portability", "serve", "--config",
                           str(world.configs["ds1.example"])], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"error: {state / 'ds1.example.sqlite'}: the file does not start with the SQLite 3 "
        "header"]
    assert sorted(p.name for p in state.iterdir()) == before  # no relay file either


def test_world_init_command(tmp_path: Path) -> None:
    folder = tmp_path / "mimi"
    argv = [sys.executable, "-m", "mimi_portability", "world", "init", str(folder), "--ds",
            "3", "--clients", "2", "--suite", "5"]
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"serve --config {folder}/ds3.example.toml" in done.stdout
    configs = [load_ds_config(folder / f"ds{i}.example.toml") for i in (1, 2, 3)]
    assert len({c.port for c in configs}) == 3 and all(c.scheme == "https" for c in configs)
    assert {c.suite for c in configs[0].clients.values()} == {5}
    for name in ("keys/ds1.example.suite1.key", "tls/ds1.example.key",
                 "clients/member-0@client.example.key"):
        assert (folder / name).stat().st_mode & 0o077 == 0, name  # private: owner only
    again = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert again.returncode == 1
    assert again.stderr.strip() == f"error: {folder}: exists and is not an empty folder"
    bad = subprocess.run([*argv[:-1], "9"], cwd=REPO, capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode == 2 and "ciphersuite must be 1..7" in bad.stderr


def test_retries_send_the_same_bytes_until_a_definitive_answer() -> None:
    seen: list[bytes] = []
    answers = iter([httpx.ConnectError("refused"), httpx.Response(503),
                    httpx.Response(408), httpx.Response(202, content=b"ok")])

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.content)
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        assert post_sync(client, "http://ds/x", b"same", attempts=4, backoff=0) == (202, b"ok")
        assert seen == [b"same"] * 4
        seen.clear()
        answers = iter([httpx.Response(409, content=b"no")])
        assert post_sync(client, "http://ds/x", b"b", attempts=4, backoff=0) == (409, b"no")
        assert len(seen) == 1  # a refusal is definitive: not retried
        answers = iter([httpx.ReadTimeout("lost")] * 3)
        assert post_sync(client, "http://ds/x", b"c", attempts=3, backoff=0) is None
