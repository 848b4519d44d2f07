"""From the logs' names and bytes to the model's parties and messages (for `validate`).

This module owns the one pass over every log that fixes how the model will see it, before
any search: `Cast.of(logs)` decides

- the parties: honest DSs are the DSs that wrote a log (and those named `extra_ds`), d0 the
  one the groups start at; every other DS domain is the rogue DS R.  Honest clients are the
  members of the group in leaf order (so a commit's sender leaf index is its committer),
  from a DS's observation of its members or from a MigrationContent's group state; a client
  that is not a member is the rogue client X; a MigrationContent's state lists those
  members (the model's OWN_MEMBERS) or another list (OTHER_MEMBERS);
- the groups (in order of first appearance) and each group's first epoch, the model's 0;
- the nonces: each honest target's nonces in the order it issued them (its own log's order
  when it logged, else the order they first appear), and whom each was issued to;
- the keys every signature is checked with: the headers' own keys and trusted keys, and
  the members' keys of every group state decoded;
- the model's bounds (`config`): enough nonces and epochs for everything the logs show.

`Cast.message` then turns one logged message into the model message it stands for, or a
`Bad` saying why it stands for none (its bytes do not decode strictly, its signature does
not verify under any known key, it names a content no log shows).  Decoding uses the
implementation's strict codec; nothing here guesses.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from model import messages as mm
from model.config import NONE, Config, Nonce

from ..codec import DecodeError
from ..crypto import CipherSuite
from ..envelope import GroupMovedRedirect, Kind, MigrationInitWithCommit, Refusal
from ..errors import ProtocolError
from ..framing import MLSMessage
from ..group_state import GroupState
from ..messages import (
    MigrationCommitAAD,
    MigrationConfirmation,
    MigrationContent,
    MigrationRequest,
    MigrationResponse,
    SignedStruct,
    TargetMigrationComplete,
    TargetMigrationRejected,
)
from ..signing import migration_content_hash, verify
from .format import GroupSeen, Log, Message


@dataclasses.dataclass(frozen=True)
class Bad:
    """A logged message that stands for no model message, and why."""

    reason: str


@dataclasses.dataclass(frozen=True)
class Commit:
    """An ordinary commit a client sends its DS (the model's commit_at_current_ds)."""

    client: int
    group: int
    epoch: int


@dataclasses.dataclass(frozen=True)
class Answer:
    """A refusal a role sent back: its code, and for group_moved the redirect's target and
    the migration commit it carries (as the model's CommitFanout of that DS)."""

    code: str
    moved_to: int | None = None
    commit: mm.CommitFanout | None = None


class CastError(Exception):
    """Logs the model cannot stand for (e.g. groups that start at different DSs)."""


def _walk(logs: Iterable[Log]) -> Iterable[tuple[Log, Message]]:
    for log in logs:
        for e in log.events:
            if isinstance(e, Message):
                yield log, e


def _decodes(cls: Any, payload: bytes) -> Any:
    try:
        return cls.decode(payload)
    except (DecodeError, ProtocolError, ValueError):
        return None


class Cast:
    """The parties, groups, nonces and keys of a set of logs, as the model numbers them."""

    def __init__(self) -> None:
        self.ds: dict[str, int] = {}
        self.clients: dict[str, int] = {}
        self.groups: dict[bytes, int] = {}
        self.base: dict[int, int] = {}
        self.nonces: dict[bytes, Nonce] = {}
        self.requester: dict[bytes, str] = {}
        self.keys: dict[str, dict[int, bytes]] = {}
        """DS domain -> ciphersuite -> signature public key."""
        self.client_keys: dict[str, dict[int, bytes]] = {}
        """Client identity -> ciphersuite -> signature public key (MigrationInit's signer)."""
        self.contents: dict[bytes, tuple[bytes, str]] = {}
        """content hash -> (payload, sender) of every MigrationContent logged."""
        self._by_hash_memo: dict[bytes, mm.MigrationContent | Bad] = {}
        self.honest_ds = 0
        self.rogue_ds = 0
        self.rogue_client = 0
        self.max_epoch = 1
        self.attempts = 1
        self.config = Config()

    # -- the one pass ------------------------------------------------------------------------

    @classmethod
    def of(cls, logs: list[Log], extra_ds: Iterable[str] = ()) -> Cast:
        c = cls()
        honest = [log.header.name for log in logs if log.header.role == "ds"]
        honest += [d for d in extra_ds if d not in honest]
        for log in logs:
            own = (c.keys if log.header.role == "ds" else c.client_keys).setdefault(
                log.header.name, {})
            own.update(log.header.keys)
            for domain, keys in log.header.trust.items():
                c.keys.setdefault(domain, {}).update(keys)
        members = c._members(logs)
        c._groups_and_start(logs, honest)
        for i, name in enumerate(members):
            c.clients[name] = i
        c.rogue_client = len(members)
        c.rogue_ds = c.honest_ds = len(c.ds)
        c._nonces(logs)
        if c.honest_ds < 2:
            named = ", ".join(c.ds) or "none"
            raise CastError(f"the logs show {c.honest_ds} honest DS ({named}); the model "
                            "needs a source and a target: name an honest DS that wrote no "
                            "log with --ds DOMAIN")
        c.config = Config(clients=max(1, len(members)), ds=c.honest_ds + 1,
                          groups=max(1, len(c.groups)), attempts=c.attempts + 1,
                          max_epoch=c.max_epoch + 1)
        return c

    def _members(self, logs: list[Log]) -> list[str]:
        """The group's members in leaf order; the keys of every group state seen, and every
        MigrationContent logged by its hash (each content decoded once here)."""
        found: list[str] | None = None
        for log in logs:
            for e in log.events:
                if isinstance(e, GroupSeen) and e.members is not None and found is None:
                    found = list(e.members)
        for log, m in _walk(logs):
            if m.kind != Kind.MigrationContent:
                continue
            content = _decodes(MigrationContent, m.payload)
            state = content and _decodes(GroupState, content.group_state)
            suite = CipherSuite(state.cipher_suite if state is not None else 1)
            h = migration_content_hash(suite, m.payload)
            self.contents.setdefault(h, (m.payload, log.header.name if m.sent else m.peer))
            if state is None:
                continue  # named by a Complete, it stands for no model content (`content`)
            for member in state.members:
                name = member.identity.decode("utf-8", "replace")
                self.client_keys.setdefault(name, {}).setdefault(state.cipher_suite,
                                                                 member.signature_key)
            if found is None:
                found = [mem.identity.decode("utf-8", "replace") for mem in state.members]
        if found is None:
            found = [log.header.name for log in logs if log.header.role == "client"]
        return found

    def _groups_and_start(self, logs: list[Log], honest: list[str]) -> None:
        start: str | None = None
        firsts: dict[bytes, int] = {}
        for log in logs:
            for e in log.events:
                if isinstance(e, GroupSeen):
                    self.groups.setdefault(e.group_id, len(self.groups))
                    at = e.ds if log.header.role == "client" else (
                        log.header.name if e.phase in ("active", "locked") else None)
                    if e.epoch is not None:
                        firsts.setdefault(e.group_id, e.epoch)
                    if at is not None and start is None:
                        start = at
        for _, m in _walk(logs):
            if m.kind == Kind.MigrationRequest:
                r = _decodes(MigrationRequest, m.payload)
                if r is not None:
                    self.groups.setdefault(r.group_id, len(self.groups))
                    firsts.setdefault(r.group_id, r.epoch)
                    start = start or r.source_domain_name.decode("utf-8", "replace")
        order = ([start] if start in honest else []) + [d for d in honest if d != start]
        for d in order:
            self.ds[d] = len(self.ds)
        for gid, g in self.groups.items():
            self.base[g] = firsts.get(gid, 0)

    def _nonces(self, logs: list[Log]) -> None:
        """Each honest target's nonces in issue order, and whom each was issued to."""
        per_target: dict[int, list[bytes]] = {}
        heard: dict[bytes, str] = {}

        def note(nonce: bytes, target: int) -> None:
            if nonce not in self.nonces:
                pool = per_target.setdefault(target, [])
                self.nonces[nonce] = Nonce(target, len(pool))
                pool.append(nonce)

        # an issuer's own log orders its nonces; then the order they first appear in
        ordered = sorted(_walk(logs), key=lambda lm: not (lm[1].sent and lm[0].header.name
                                                          in self.ds))
        for log, m in ordered:
            if m.kind != Kind.MigrationResponse:
                continue
            resp = _decodes(MigrationResponse, m.payload)
            if resp is None:
                continue
            signer = self.signer(resp, resp.migration_request.target_domain_name.decode(
                "utf-8", "replace"), log.header.name if m.sent else m.peer)
            if 0 <= signer < self.honest_ds:
                note(resp.nonce, signer)
                if m.sent and self.ds.get(log.header.name) == signer:
                    self.requester[resp.nonce] = m.peer  # the issuer's own word
                elif log.header.role == "client" and not m.sent:
                    heard.setdefault(resp.nonce, log.header.name)
        for nonce, client in heard.items():
            self.requester.setdefault(nonce, client)
        for _, m in _walk(logs):
            epoch = self._epoch_of(m)
            if epoch is not None:
                self.max_epoch = max(self.max_epoch, epoch)
        self.attempts = max([len(p) for p in per_target.values()] or [1])

    def _epoch_of(self, m: Message) -> int | None:
        if m.kind in (Kind.Fanout, Kind.Commit):
            epoch = self._commit(m.payload)
            return None if epoch is None else epoch[0] + 1
        if m.kind == Kind.MigrationRequest:
            r = _decodes(MigrationRequest, m.payload)
            if r is not None and r.group_id in self.groups:
                return int(r.epoch) - self.base[self.groups[r.group_id]] + 1
        return None

    # -- names -------------------------------------------------------------------------------

    def ds_id(self, domain: bytes | str) -> int:
        name = domain.decode("utf-8", "replace") if isinstance(domain, bytes) else domain
        return self.ds.get(name, self.rogue_ds)

    def client_id(self, name: str) -> int:
        return self.clients.get(name, self.rogue_client)

    def group(self, group_id: bytes) -> int:
        return self.groups.get(group_id, -2)

    def epoch(self, group: int, epoch: int) -> int:
        return epoch - self.base.get(group, 0)

    def nonce(self, raw: bytes) -> Nonce:
        return self.nonces.get(raw, Nonce(self.rogue_ds, 0))

    def is_ds(self, name: str) -> bool:
        """A DS (honest or not) rather than a client: a DS logged or whose key is trusted."""
        return name in self.ds or name in self.keys

    def signer(self, message: SignedStruct, *likely: str, clients: bool = False) -> int:
        """The DS (with `clients`: the client) whose known key verifies `message`, by the
        model's id (-2: no known key does)."""
        table = self.client_keys if clients else self.keys
        for name in [*likely, *(d for d in table if d not in likely)]:
            for suite, key in table.get(name, {}).items():
                try:
                    if verify(message, CipherSuite(suite), key):
                        return self.client_id(name) if clients else self.ds_id(name)
                except ValueError:
                    continue
        return -2

    # -- messages ----------------------------------------------------------------------------

    def _commit(self, payload: bytes) -> tuple[int, int, int, int] | None:
        """(epoch, committer, aad target, group) of an MLS commit; None if it does not decode."""
        try:
            message = MLSMessage.decode(payload)
            public = message.public_message
            if public is None:
                return None
            content = public.content
            aad = NONE
            if content.authenticated_data:
                target = MigrationCommitAAD.decode(content.authenticated_data).target_ds_domain
                aad = self.ds_id(target)
        except (DecodeError, ProtocolError, ValueError):
            return None
        group = self.group(content.group_id)
        return self.epoch(group, content.epoch), content.sender.index or 0, aad, group

    def request(self, r: MigrationRequest, client: str) -> mm.MigrationRequest:
        g = self.group(r.group_id)
        return mm.MigrationRequest(self.client_id(client), self.ds_id(r.source_domain_name),
                                   self.ds_id(r.target_domain_name), g, self.epoch(g, r.epoch))

    def response(self, resp: MigrationResponse) -> mm.MigrationResponse | Bad:
        target = resp.migration_request.target_domain_name.decode("utf-8", "replace")
        signer = self.signer(resp, target)
        if signer == -2:
            return Bad("MigrationResponse: the signature verifies under no known DS key")
        requester = self.requester.get(resp.nonce, "")
        return mm.MigrationResponse(signer, self.request(resp.migration_request, requester),
                                    self.nonce(resp.nonce))

    def content(self, payload: bytes, sender: str) -> mm.MigrationContent | Bad:
        c = MigrationContent.decode(payload)
        signer = self.signer(c, sender)
        if signer == -2:
            return Bad("MigrationContent: the signature verifies under no known DS key")
        response = self.response(c.migration_response)
        if isinstance(response, Bad):
            return response
        state = GroupState.decode(c.group_state)
        g = self.group(state.group_id)
        listed = [m.identity.decode("utf-8", "replace") for m in state.members]
        members = mm.OWN_MEMBERS if listed == list(self.clients) else mm.OTHER_MEMBERS
        return mm.MigrationContent(signer, response,
                                   mm.GroupState(g, self.epoch(g, state.epoch), members))

    def _by_hash(self, h: bytes) -> mm.MigrationContent | Bad:
        """The model content of hash `h`, decoded and its signatures checked once."""
        known = self._by_hash_memo.get(h)
        if known is not None:
            return known
        found = self.contents.get(h)
        if found is None:
            return Bad(f"names MigrationContent {h.hex()[:16]}..., which no log shows")
        known = self._by_hash_memo[h] = self.content(*found)
        return known

    def message(self, m: Message, me: str, role: str) -> Any:
        """The model message (or `Commit`, `Answer`, `Bad`) logged message `m` of role `me`
        stands for."""
        sender = me if m.sent else m.peer
        recipient = m.peer if m.sent else me
        try:
            return self._message(m.kind, m.payload, sender, recipient)
        except (DecodeError, ProtocolError, ValueError) as err:
            return Bad(f"{m.kind}: does not decode: {err}")

    def _message(self, kind: str, payload: bytes, sender: str, recipient: str) -> Any:
        if kind == Kind.MigrationRequest:
            return self.request(MigrationRequest.decode(payload), sender)
        if kind == Kind.MigrationResponse:
            return self.response(MigrationResponse.decode(payload))
        if kind == Kind.MigrationInitWithCommit:
            bundle = MigrationInitWithCommit.decode(payload)
            init = bundle.migration_init
            signer = self.signer(init, sender, clients=True)
            if signer == -2:
                return Bad("MigrationInit: the signature verifies under no known key")
            resp = self.response(init.migration_response)
            commit = self._commit(bundle.commit)
            if isinstance(resp, Bad):
                return resp
            if commit is None:
                return Bad("MigrationInitWithCommit: the commit does not decode")
            return mm.MigrationInit(signer, resp, commit[0], commit[2])
        if kind == Kind.MigrationContent:
            return self.content(payload, sender)
        if kind == Kind.TargetMigrationComplete:
            done = TargetMigrationComplete.decode(payload)
            content = self._by_hash(done.migration_content_hash)
            signer = self.signer(done, sender)
            if isinstance(content, Bad) or signer == -2:
                return content if isinstance(content, Bad) else Bad(
                    "TargetMigrationComplete: the signature verifies under no known DS key")
            return mm.TargetMigrationComplete(signer, content)
        if kind == Kind.TargetMigrationRejected:
            rejected = TargetMigrationRejected.decode(payload)
            content = self._by_hash(rejected.migration_content_hash)
            signer = self.signer(rejected)
            if isinstance(content, Bad) or signer == -2:
                return content if isinstance(content, Bad) else Bad(
                    "TargetMigrationRejected: the signature verifies under no known DS key")
            if not self.is_ds(recipient):  # the source forwards it: MigrationAborted,
                # the source's word when the target the content was for signed it
                by = self.ds_id(sender) if signer == content.response.request.target \
                    else signer
                return mm.MigrationAborted(by, content.state.group, content.response.nonce)
            return mm.TargetMigrationRejected(signer, content)
        if kind == Kind.MigrationConfirmation:
            conf = MigrationConfirmation.decode(payload)
            signer = self.signer(conf, sender)
            if signer == -2:
                return Bad("MigrationConfirmation: the signature verifies under no known DS key")
            return mm.MigrationConfirmation(signer, self.ds_id(conf.domain_name),
                                            self.nonce(conf.nonce), self.group(conf.group_id))
        if kind in (Kind.Fanout, Kind.Commit):
            commit = self._commit(payload)
            if commit is None:
                return Bad(f"{kind}: not an MLS commit of a known group")
            epoch, committer, aad, group = commit
            if kind == Kind.Commit:
                return Commit(self.client_id(sender), group, epoch)
            return mm.CommitFanout(self.ds_id(sender), group, epoch, committer, aad)
        if kind == Kind.Refusal:
            refusal = Refusal.decode(payload)
            code = refusal.code.decode("utf-8", "replace")
            redirect = refusal.redirect()
            if redirect is None:
                return Answer(code)
            return Answer(code, self.ds_id(redirect.target_domain_name),
                          self._fanout(redirect, sender))
        return Bad(f"unknown kind {kind!r}")

    def _fanout(self, redirect: GroupMovedRedirect, sender: str) -> mm.CommitFanout | None:
        commit = self._commit(redirect.commit)
        if commit is None:
            return None
        epoch, committer, aad, group = commit
        return mm.CommitFanout(self.ds_id(sender), group, epoch, committer, aad)
