"""Durable state (impl/storage/): records, the two stores, the file checks, the driver.

What a DS and a client keep is restored exactly (every record kind, every nonce status, a
lock, a tombstone, every event kind; and every party after every step of a migration, on
both stores); every bad or foreign file gives its typed error and is left byte for byte as
it was; the SQLite file is WAL with synchronous=FULL and is migrated forward only; a refusal
writes nothing; the same request bytes get the same answer after a restart; the outbox is
resent; and a real process killed at a crash point leaves exactly what the simulated crash
leaves.  The crash matrix is tests/test_storage_crashes.py.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from impl.client import Client, Membership, PendingMigration
from impl.codec import DecodeError
from impl.ds import DeliveryService, Hosted, Lock, NonceRecord, NonceStatus, Tombstone
from impl.envelope import Envelope, Kind, SeededRandom
from impl.errors import GroupExists, ProtocolError
from impl.events import (
    Abandoned,
    Aborted,
    Acknowledged,
    Exported,
    Fanout,
    Imported,
    Sequenced,
    Switched,
    Unlocked,
)
from impl.group import next_epoch
from impl.messages import MigrationRequest, MigrationResponse
from impl.storage import (
    CorruptDatabase,
    Crash,
    CrashPoint,
    DurableClient,
    DurableDS,
    ForeignDatabase,
    MemoryStore,
    NotSQLite,
    StoreBusy,
    StoreExists,
    StoreMissing,
    TamperedRecord,
    UnsupportedSchema,
    WrongOwner,
    crashes,
    records,
    sqlite,
)
from impl.storage.driver import meta_of
from impl.storage.world import DurableWorld, build_durable_world
from impl.world import GROUP_ID, SOURCE, TARGET, build_world

REPO = Path(__file__).resolve().parent.parent


def _fresh_ds(ds: DeliveryService, seed: str = "reopened") -> DeliveryService:
    """The same DS from its configuration alone (no state)."""
    return DeliveryService(ds.domain, keys=ds.keys, trust=ds.trust, random=SeededRandom(seed),
                           nonce_lifetime=ds.nonce_lifetime, retry_interval=ds.retry_interval)


def _request(group: bytes = GROUP_ID, epoch: int = 7) -> MigrationRequest:
    return MigrationRequest(source_domain_name=SOURCE.encode(), target_domain_name=TARGET.encode(),
                            group_id=group, epoch=epoch)


def _rich_ds() -> DeliveryService:
    """A DS holding one of everything: an active and a locked group (one imported), a
    tombstone, a nonce in each status, and every DS event kind."""
    world = build_world(members=3, epoch=7)
    ds = world.source
    state = ds.groups[GROUP_ID].state
    other = dataclasses.replace(state, group_id=b"locked group")
    ds.groups[b"locked group"] = Hosted(
        state=other, source=TARGET,
        lock=Lock(b"n" * 32, TARGET, "member-1@client.example", b"content", b"h" * 32,
                  b"commit", 12.5))
    ds.tombstones[b"gone"] = Tombstone(TARGET, b"migration commit", b"c" * 32)
    for i, status in enumerate(NonceStatus):
        ds.nonces[bytes([i]) * 32] = NonceRecord(
            _request(b"g%d" % i, i), 1, f"member-{i}@client.example", 1.0 + i / 3, status,
            b"x" * 32 if status is NonceStatus.CONSUMED else None)
    ds.events += [Sequenced(GROUP_ID, 7, b"c"), Exported(GROUP_ID, b"n", b"h"),
                  Imported(GROUP_ID, b"n", b"h"), Acknowledged(GROUP_ID, b"n", b"h"),
                  Fanout(GROUP_ID, 7, TARGET), Unlocked(GROUP_ID, b"n", 2)]
    return ds


def _rich_client() -> Client:
    world = build_world(members=3, epoch=7)
    client = world.clients[1]
    view = client.groups[GROUP_ID]
    view.pending = PendingMigration(_request(), b"p" * 32)
    client.groups[b"second"] = Membership(
        dataclasses.replace(next_epoch(view.state), group_id=b"second"), TARGET, 1,
        PendingMigration(_request(b"second", 8)), b"done" * 8)
    client.events += [Switched(GROUP_ID, TARGET, 8, "fanout"), Abandoned(GROUP_ID, "group_exists"),
                      Aborted(GROUP_ID, TARGET, 1)]
    return client


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# -- records: every field restored, strictly decoded -------------------------------------------


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_a_ds_with_one_of_everything_reopens_exactly_as_it_was(backend: str,
                                                               tmp_path: Path) -> None:
    ds = _rich_ds()
    before = ds.snapshot()
    if backend == "memory":
        store = MemoryStore(meta_of(ds))
        DurableDS.create(ds, store, lambda _: None).close()
        reopened = DurableDS.open(_fresh_ds(ds), store, lambda _: None)
    else:
        DurableDS.create_sqlite(ds, str(tmp_path / "ds.sqlite"), lambda _: None).close()
        reopened = DurableDS.open_sqlite(_fresh_ds(ds), str(tmp_path / "ds.sqlite"),
                                         lambda _: None)
    assert reopened.role.snapshot() == before
    assert [reopened.role.status(g) for g in (GROUP_ID, b"locked group", b"gone", b"x")] == [
        "active", "locked", "moved", "absent"]
    assert {r.status for r in reopened.role.nonces.values()} == set(NonceStatus)
    reopened.close()


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_a_client_with_pending_migrations_reopens_exactly_as_it_was(backend: str,
                                                                    tmp_path: Path) -> None:
    client = _rich_client()
    before = client.snapshot()
    fresh = Client(client.identity, key=client.key, trust=client.trust)
    if backend == "memory":
        store = MemoryStore(meta_of(client))
        DurableClient.create(client, store, lambda _: None)
        reopened = DurableClient.open(fresh, store, lambda _: None)
    else:
        path = str(tmp_path / "c.sqlite")
        DurableClient.create_sqlite(client, path, lambda _: None).close()
        reopened = DurableClient.open_sqlite(fresh, path, lambda _: None)
    assert reopened.role.snapshot() == before
    reopened.close()


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_every_party_reopens_as_it_was_after_every_step_of_a_migration(
        backend: str, tmp_path: Path) -> None:
    dw = build_durable_world(tmp_path if backend == "sqlite" else None, members=3)
    net = dw.world.network
    initiator = dw.drivers[dw.world.initiator.identity]
    assert isinstance(initiator, DurableClient)
    initiator.call(lambda c: c.start_migration(GROUP_ID, TARGET))
    dw.restart(dw.world.initiator.identity)
    assert dw.world.initiator.groups[GROUP_ID].pending is not None
    seen = set()
    while net.in_flight:
        net.deliver(0.0)
        for name in list(dw.drivers):
            role = dw.drivers[name].role
            before = role.snapshot()
            dw.restart(name)
            assert dw.drivers[name].role.snapshot() == before, name
            assert dw.drivers[name].role is not role
        seen.add((dw.world.source.status(GROUP_ID), dw.world.target.status(GROUP_ID)))
    assert dw.outcome() == "completed" and dw.problems() == []
    assert ("locked", "absent") in seen and ("locked", "active") in seen
    dw.close()


def test_the_crash_matrix_on_in_memory_stores_completes_every_run() -> None:
    """The fast tier's crash matrix (the SQLite one is tests/test_storage_crashes.py)."""
    report = crashes.matrix(None, members=2)
    assert report.crashes == len(report.results) > 40
    assert report.failures == []
    assert {r.outcome for r in report.results} == {"completed"}


def test_every_record_decoder_is_strict() -> None:
    ds, client = _rich_ds(), _rich_client()
    rows = [*records.ds_tables(ds)["group"].values(), *records.ds_tables(ds)["nonce"].values(),
            *records.ds_tables(ds)["tombstone"].values(),
            *records.client_tables(client)["membership"].values()]
    decoders = {"group": records.decode_hosted, "nonce": records.decode_nonce,
                "tombstone": records.decode_tombstone, "membership": records.decode_membership}
    tables = {**records.ds_tables(ds), **records.client_tables(client)}
    events = [records.encode_event(e) for e in [*ds.events, *client.events]]
    checked = 0
    for table, decode in [*decoders.items(), ("event", records.decode_event)]:
        values = events if table == "event" else list(tables[table].values())
        for value in values:
            decode(value)  # the row itself decodes
            for bad in (value[:-1], value + b"\x00", b"\x02" + value[1:], b""):
                with pytest.raises(DecodeError):
                    decode(bad)
                checked += 1
    assert rows and checked >= 4 * (len(rows) + len(events))
    with pytest.raises(DecodeError, match="unknown kind"):
        records.decode_envelope(records.encode_envelope(
            Envelope(sender="a", recipient="b", kind=Kind.Commit, payload=b"")).replace(
                b"Commit", b"Comnit"))


# -- the SQLite file ------------------------------------------------------------------------


def _store_file(tmp_path: Path) -> tuple[Path, DeliveryService]:
    ds = _rich_ds()
    path = tmp_path / "ds.sqlite"
    DurableDS.create_sqlite(ds, str(path), lambda _: None).close()
    return path, ds


def test_the_file_is_wal_with_synchronous_full_and_carries_its_schema_version(
        tmp_path: Path) -> None:
    path, ds = _store_file(tmp_path)
    driver = DurableDS.open_sqlite(_fresh_ds(ds), str(path), lambda _: None)
    db = driver.store._db  # type: ignore[attr-defined]
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert db.execute("PRAGMA user_version").fetchone()[0] == sqlite.SCHEMA_VERSION
    assert db.execute("PRAGMA application_id").fetchone()[0] == sqlite.APPLICATION_ID
    assert driver.store.integrity() == "ok"
    driver.close()


def _refused(tmp_path: Path, path: Path, error: type[Exception], match: str | None = None,
             role: DeliveryService | None = None) -> None:
    """Opening `path` raises `error` and leaves the folder exactly as it was."""
    before, files = _digest(path), _files(tmp_path)
    with pytest.raises(error, match=match):
        DurableDS.open_sqlite(role or _fresh_ds(_rich_ds()), str(path), lambda _: None)
    assert _digest(path) == before and _files(tmp_path) == files


def _edit(path: Path, statement: str, parameters: tuple[object, ...] = ()) -> None:
    """One statement on the store's file behind the store's back, committed."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute(statement, parameters)
        db.commit()


def test_a_file_that_is_not_sqlite_is_refused_unchanged(tmp_path: Path) -> None:
    for name, data in (("text", b"group state, surely\n" * 10), ("empty", b""),
                       ("short", b"SQLite format")):
        path = tmp_path / name
        path.write_bytes(data)
        _refused(tmp_path, path, NotSQLite, "header")


def test_an_sqlite_file_of_another_application_is_refused_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    _edit(path, "CREATE TABLE t (x)")
    _refused(tmp_path, path, ForeignDatabase, "application_id 0x0")


def test_a_store_of_a_newer_schema_is_refused_unchanged(tmp_path: Path) -> None:
    path, _ = _store_file(tmp_path)
    _edit(path, f"PRAGMA user_version = {sqlite.SCHEMA_VERSION + 1}")
    _refused(tmp_path, path, UnsupportedSchema, "schema version 2")


def test_a_corrupt_page_is_refused_unchanged(tmp_path: Path) -> None:
    path, _ = _store_file(tmp_path)
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) >= 3 * page
    data[2 * page + 8: 2 * page + 200] = b"\xa5" * 192  # a b-tree page's header and cells
    path.write_bytes(bytes(data))
    _refused(tmp_path, path, CorruptDatabase, "integrity_check|malformed")


def test_a_tampered_row_is_refused_unchanged(tmp_path: Path) -> None:
    path, _ = _store_file(tmp_path)
    _edit(path, "UPDATE record SET value = value || x'00' WHERE tab = 'nonce'")
    _refused(tmp_path, path, TamperedRecord, "digest does not match")


def test_a_tampered_row_with_a_matching_digest_is_still_refused_unchanged(tmp_path: Path) -> None:
    path, _ = _store_file(tmp_path)
    with contextlib.closing(sqlite3.connect(path)) as db:
        tab, key, value = db.execute("SELECT tab, key, value FROM record WHERE tab = 'group'"
                                     ).fetchone()
    bad = bytes(value)[:-3]
    _edit(path, "UPDATE record SET value = ?, digest = ? WHERE tab = ? AND key = ?",
          (bad, sqlite.digest(tab, bytes(key), bad), tab, key))
    _refused(tmp_path, path, TamperedRecord, "does not decode")


def test_another_party_s_store_is_refused_unchanged(tmp_path: Path) -> None:
    path, _ds = _store_file(tmp_path)
    world = build_world(members=3, epoch=7)
    _refused(tmp_path, path, WrongOwner, "not ds 'target.example'", role=_fresh_ds(world.target))
    other_keys = build_world(members=3, epoch=7, seed=1).source
    _refused(tmp_path, path, WrongOwner, "other keys", role=_fresh_ds(other_keys))


def test_create_never_overwrites_and_open_never_creates(tmp_path: Path) -> None:
    path, ds = _store_file(tmp_path)
    before = _digest(path)
    with pytest.raises(StoreExists):
        DurableDS.create_sqlite(_fresh_ds(ds), str(path), lambda _: None)
    assert _digest(path) == before
    with pytest.raises(StoreMissing):
        DurableDS.open_sqlite(_fresh_ds(ds), str(tmp_path / "none.sqlite"), lambda _: None)
    assert not (tmp_path / "none.sqlite").exists()


def test_a_second_writer_is_told_the_store_is_busy(tmp_path: Path) -> None:
    path, ds = _store_file(tmp_path)
    driver = DurableDS.open_sqlite(_fresh_ds(ds), str(path), lambda _: None)
    before = driver.role.snapshot()
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(StoreBusy):
        driver.tick(1000.0)  # expires the pending nonce: a write
    assert driver.role.snapshot() == before  # memory put back to what is committed
    other.execute("ROLLBACK")
    other.close()
    driver.tick(1000.0)  # the writer is gone: the same tick now commits
    assert NonceStatus.PENDING not in {r.status for r in driver.role.nonces.values()}
    driver.close()
    driver = DurableDS.open_sqlite(_fresh_ds(ds), str(path), lambda _: None)
    assert NonceStatus.PENDING not in {r.status for r in driver.role.nonces.values()}
    driver.close()


def test_an_older_schema_is_migrated_forward_in_one_transaction(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    path, ds = _store_file(tmp_path)
    before = ds.snapshot()

    def to_v2(db: sqlite3.Connection) -> None:
        db.execute("ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0")

    def broken(db: sqlite3.Connection) -> None:
        to_v2(db)
        raise sqlite3.OperationalError("disk I/O error, say")

    monkeypatch.setattr(sqlite, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(sqlite.MIGRATIONS, 1, broken)
    _refused(tmp_path, path, CorruptDatabase, "disk I/O error")  # stays at version 1
    monkeypatch.setitem(sqlite.MIGRATIONS, 1, to_v2)
    driver = DurableDS.open_sqlite(_fresh_ds(ds), str(path), lambda _: None)
    assert driver.role.snapshot() == before
    db = driver.store._db  # type: ignore[attr-defined]
    assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    assert "attempts" in [r[1] for r in db.execute("PRAGMA table_info(outbox)")]
    driver.close()


# -- the driver: refusals, idempotency, the outbox ----------------------------------------------


def _target(tmp_path: Path) -> tuple[DurableDS, list[Envelope], Envelope]:
    world = build_world(members=2, epoch=7)
    sent: list[Envelope] = []
    driver = DurableDS.create_sqlite(world.target, str(tmp_path / "t.sqlite"), sent.extend)
    assert isinstance(driver, DurableDS)
    request = world.initiator.start_migration(GROUP_ID, TARGET)
    return driver, sent, request


def _reopen(driver: DurableDS, sent: list[Envelope], seed: str = "r") -> DurableDS:
    driver.store.abandon()
    reopened = DurableDS.open_sqlite(_fresh_ds(driver.role, seed), driver.store.path, sent.extend)
    assert isinstance(reopened, DurableDS)
    return reopened


def test_a_refused_message_writes_nothing(tmp_path: Path) -> None:
    driver, sent, request = _target(tmp_path)
    driver = _reopen(driver, sent)  # the creating transaction checkpointed into the file
    before, file_before = driver.role.snapshot(), _digest(tmp_path / "t.sqlite")
    for bad in (dataclasses.replace(request, payload=request.payload[:-1]),
                dataclasses.replace(request, kind=Kind.MigrationConfirmation),
                dataclasses.replace(request, cipher_suite=5)):
        with pytest.raises(ProtocolError):
            driver.receive(bad, 0.0)
    assert driver.store.stats.transactions == 0 and sent == []
    assert driver.role.snapshot() == before
    driver.close()
    assert _digest(tmp_path / "t.sqlite") == file_before


def test_the_same_request_gets_the_same_answer_after_a_restart(tmp_path: Path) -> None:
    driver, sent, request = _target(tmp_path)
    driver.receive(request, 0.0)
    assert [e.kind for e in sent] == [Kind.MigrationResponse]
    nonces = dict(driver.role.nonces)
    driver = _reopen(driver, sent)
    driver.receive(request, 1.0)  # the role refuses it (group_exists): the record answers
    assert sent[1] == sent[0] and driver.role.nonces == nonces
    with pytest.raises(GroupExists):  # another client's request is refused as before
        driver.receive(dataclasses.replace(request, sender="member-1@client.example"), 1.0)
    driver.close()


def test_without_its_record_the_retry_would_be_refused(tmp_path: Path) -> None:
    driver, _sent, request = _target(tmp_path)
    driver.receive(request, 0.0)
    db = driver.store._db  # type: ignore[attr-defined]
    db.execute("DELETE FROM answer")
    with pytest.raises(GroupExists):
        driver.receive(request, 1.0)
    driver.close()


def _for_group(request: Envelope, group: bytes) -> Envelope:
    """The same client's MigrationRequest for another group."""
    fields = MigrationRequest.decode(request.payload)
    return dataclasses.replace(
        request, payload=dataclasses.replace(fields, group_id=group).encode())


@pytest.mark.parametrize("backend", ["sqlite", "memory"])
def test_an_answer_is_kept_for_its_lifetime_and_then_forgotten(backend: str,
                                                                 tmp_path: Path) -> None:
    world = build_world(members=2, epoch=7)
    sent: list[Envelope] = []
    driver = (DurableDS.create_sqlite(world.target, str(tmp_path / "t.sqlite"), sent.extend)
              if backend == "sqlite" else DurableDS.create_memory(world.target, sent.extend))
    driver.answer_lifetime = 100.0  # the nonces live 300 s: the role's answers do not change
    request = world.initiator.start_migration(GROUP_ID, TARGET)
    second, third = _for_group(request, b"second group"), _for_group(request, b"third group")
    driver.receive(request, 0.0)
    driver.receive(second, 50.0)  # forgets what is older than -50: nothing
    driver.receive(request, 60.0)  # refused by the role (group_exists): the record answers
    assert sent[2] == sent[0] and len(sent) == 3
    driver.receive(third, 101.0)  # forgets what is older than 1.0: the first answer
    assert driver.store.answer(records.request_hash(request)) is None
    assert driver.store.answer(records.request_hash(second)) is not None
    with pytest.raises(GroupExists):  # now the role's own answer to the retry stands
        driver.receive(request, 102.0)
    driver.receive(second, 102.0)  # a younger record still answers
    assert sent[-1] == sent[1]
    driver.close()


def test_answers_are_kept_for_ever_without_a_lifetime(tmp_path: Path) -> None:
    driver, sent, request = _target(tmp_path)
    driver.answer_lifetime = None
    driver.receive(request, 0.0)
    driver.receive(_for_group(request, b"second group"), 1e9)
    assert driver.store.answer(records.request_hash(request)) is not None and len(sent) == 2
    driver.close()


def test_a_retry_the_role_can_answer_afresh_is_answered_afresh(tmp_path: Path) -> None:
    driver, sent, request = _target(tmp_path)
    driver.receive(request, 0.0)
    driver.tick(driver.role.nonce_lifetime)  # the nonce expires
    driver = _reopen(driver, sent)
    driver.receive(request, driver.role.nonce_lifetime + 1)
    first, second = (MigrationResponse.decode(e.payload).nonce for e in sent)
    assert first != second
    assert {r.status for r in driver.role.nonces.values()} == {NonceStatus.EXPIRED,
                                                               NonceStatus.PENDING}
    driver.close()


@pytest.mark.parametrize("point", [CrashPoint.BEFORE_COMMIT, CrashPoint.AFTER_COMMIT,
                                   CrashPoint.AFTER_SEND, CrashPoint.AFTER_MARK])
def test_the_outbox_holds_exactly_what_was_committed_and_not_yet_marked(
        point: CrashPoint, tmp_path: Path) -> None:
    driver, sent, request = _target(tmp_path)

    def crash(at: CrashPoint, name: str) -> None:
        if at is point:
            raise Crash(at)

    driver.crash_hook = crash
    with pytest.raises(Crash):
        driver.receive(request, 0.0)
    sent_before = len(sent)
    driver = _reopen(driver, sent)
    committed = point is not CrashPoint.BEFORE_COMMIT
    assert len(driver.role.nonces) == int(committed)
    resent = driver.resume()
    assert resent == int(point in (CrashPoint.AFTER_COMMIT, CrashPoint.AFTER_SEND))
    assert sent_before == int(point in (CrashPoint.AFTER_SEND, CrashPoint.AFTER_MARK))
    driver = _reopen(driver, sent)
    assert driver.resume() == 0  # marked sent by the first resume
    driver.close()


_CHILD = """
import os, sys
sys.path.insert(0, {repo!r})
from impl.storage import DurableDS
from impl.world import GROUP_ID, TARGET, build_world
world = build_world(members=2, epoch=7)
driver = DurableDS.create_sqlite(world.target, {path!r}, lambda out: None)
def crash(point, name):
    if point == {point!r}:
        os._exit(3)  # the process dies: no cleanup, no rollback, no close
driver.crash_hook = crash
driver.receive(world.initiator.start_migration(GROUP_ID, TARGET), 0.0)
os._exit(0)
"""


@pytest.mark.parametrize("point", [CrashPoint.BEFORE_COMMIT, CrashPoint.AFTER_COMMIT])
def test_a_killed_process_leaves_what_the_simulated_crash_leaves(point: CrashPoint,
                                                                 tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite"
    child = subprocess.run([sys.executable, "-c", _CHILD.format(
        repo=str(REPO), path=str(path), point=str(point))], capture_output=True, timeout=60)
    assert child.returncode == 3, child.stderr.decode()
    world = build_world(members=2, epoch=7)
    sent: list[Envelope] = []
    driver = DurableDS.open_sqlite(_fresh_ds(world.target), str(path), sent.extend)
    assert isinstance(driver, DurableDS)
    committed = point is CrashPoint.AFTER_COMMIT
    assert [r.status for r in driver.role.nonces.values()] == [NonceStatus.PENDING] * committed
    assert driver.resume() == int(committed)
    assert [e.kind for e in sent] == [Kind.MigrationResponse] * committed
    assert driver.store.integrity() == "ok"
    driver.close()


# -- bad input: nothing but a refusal, and nothing written ---------------------------------------


_ROWS = [*records.ds_tables(_rich_ds()).items(), *records.client_tables(_rich_client()).items(),
         ("event", {records.event_key(i): records.encode_event(e)
                    for i, e in enumerate([*_rich_ds().events, *_rich_client().events])})]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_mangled_row_is_a_decode_error_or_a_valid_record(data: st.DataObject) -> None:
    table, rows = data.draw(st.sampled_from(_ROWS))
    value = data.draw(st.sampled_from(sorted(rows.values())))
    mangled = bytearray(value)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(mangled)))
        choice = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if choice == "flip" and at < len(mangled):
            mangled[at] ^= data.draw(st.integers(1, 255))
        elif choice == "cut":
            del mangled[at:at + data.draw(st.integers(1, 8))]
        else:
            mangled[at:at] = data.draw(st.binary(min_size=1, max_size=8))
    with contextlib.suppress(DecodeError):  # anything else escaping is the failure
        records.DECODERS[table](bytes(mangled))


def _world_at(step: int, folder: Path) -> DurableWorld:
    """A durable world (SQLite in `folder`) after the start call and `step` deliveries."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    dw = build_durable_world(folder, members=2)
    initiator = dw.drivers[dw.world.initiator.identity]
    assert isinstance(initiator, DurableClient)
    initiator.call(lambda c: c.start_migration(GROUP_ID, TARGET))
    for _ in range(step):
        dw.world.network.deliver(0.0)
    return dw


#: A commit's PublicMessage ends with confirmation_tag<V> and membership_tag<V>, 33 bytes
#: each with suite 1: RefHashes nobody checks (docs/profile.md §8).
_TAGS = 66


def test_a_tampered_delivery_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    """Each envelope of a whole migration, with one byte flipped at a spread of offsets,
    delivered to the durable party it was meant for (at the moment it was meant for it):
    a refusal (never another exception) that changes and writes nothing; or accepted with
    no change and nothing written (a MigrationConfirmation after the fan-out switched the
    member already); or accepted with a change only where this profile checks nothing:
    the MigrationRequest carries no signature (its sender is the transport's to
    authenticate) and a commit's two tags are checked by nobody.  The world is then built
    again up to that step."""
    folder = tmp_path / "w"
    dw = _world_at(0, folder)
    refused = unchanged = changed = step = 0
    while dw.world.network.in_flight:
        envelope = dw.world.network.in_flight[0]
        size = len(envelope.payload)
        for offset in range(0, size, max(1, size // 12)):
            data = bytearray(envelope.payload)
            data[offset] ^= 0x5A
            driver = dw.drivers[envelope.recipient]
            before = (driver.role.snapshot(), driver.store.stats.transactions)
            try:
                driver.receive(dataclasses.replace(envelope, payload=bytes(data)), 0.0)
            except ProtocolError:
                refused += 1
                assert (driver.role.snapshot(), driver.store.stats.transactions) == before
                continue
            if (driver.role.snapshot(), driver.store.stats.transactions) == before:
                unchanged += 1
                continue
            changed += 1
            assert envelope.kind is Kind.MigrationRequest or (
                envelope.kind in (Kind.Fanout, Kind.MigrationInitWithCommit)
                and offset >= size - _TAGS), (envelope.kind, offset, size)
            dw.close()
            dw = _world_at(step, folder)
        dw.world.network.deliver(0.0)
        step += 1
    assert refused > 70 and unchanged and changed
    assert dw.outcome() == "completed" and dw.problems() == []
    dw.close()
