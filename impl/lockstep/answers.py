"""What a peer gets back from a refused move, held to the refusal the rules name.

This module owns the lockstep's comparison of a refusal (model/refusals.py `Expected`, from
the `refusal` codes on model/rules.py's checks) with the implementation's answer: the
Refusal envelope a peer would get (impl/envelope.py, through its encoding), its code, a
group_moved redirect's target and migration commit, a wrong_epoch's current epoch.
"""

from __future__ import annotations

from model.refusals import IGNORED, Expected

from ..codec import DecodeError
from ..envelope import Refusal
from ..errors import GroupMoved, ProtocolError, WrongEpoch
from .abstraction import Decoder


class Divergence(AssertionError):
    """The implementation and the model disagree (impl/lockstep/driver.py re-exports it)."""


def compare_refusal(dec: Decoder, what: str, expected: Expected,
                    error: ProtocolError | None) -> str:
    """The refusal `error` the implementation answered a refused move with (None: no
    answer), as the Refusal envelope a peer gets through its encoding, against the one the
    rules name: its code, and for group_moved the redirect's target and migration commit,
    for wrong_epoch the current epoch.  Returns the code ("ignored": none); Divergence
    otherwise."""
    return compare_answer(dec, what, expected,
                          None if error is None else Refusal.of(error), str(error or ""))


def compare_answer(dec: Decoder, what: str, expected: Expected, refusal: Refusal | None,
                   shown: str = "") -> str:
    """`compare_refusal` of the Refusal a peer got (None: no answer), as bytes carry it
    (the wire binding's answer, impl/lockstep/remote.py); `shown` says it in the report."""
    code = IGNORED if refusal is None else refusal.code.decode("utf-8", "replace")
    error = shown or (None if refusal is None else code)
    why = f"the rules refuse it by {', '.join(expected.checks) or 'no check'}"
    if code not in expected.codes:
        raise Divergence(f"{what}: {why}, so a peer must get one of "
                         f"{sorted(expected.codes)}; the implementation answers "
                         f"{error or 'nothing'}")
    if refusal is None:
        return code
    refusal = Refusal.decode(refusal.encode())
    if code == GroupMoved.code:
        try:
            redirect = refusal.redirect()
        except ProtocolError as err:  # a peer's bytes (the wire): they may not decode
            raise Divergence(f"{what}: the group_moved redirect does not decode: {err}") from err
        assert redirect is not None
        if expected.moved_to is None or expected.commit is None:
            raise Divergence(f"{what}: {why}; the implementation redirects, but the "
                             "group has not moved away from this DS in the model")
        target = dec.domain(expected.moved_to)
        c = expected.commit
        try:
            got = dec.commit(redirect.commit)
        except (DecodeError, AssertionError):
            got = ("undecodable", redirect.commit.hex()[:32])  # type: ignore[assignment]
        if (redirect.target_domain_name.decode() != target
                or dec.group(redirect.group_id) != c.group
                or got != (c.epoch, c.committer, c.aad_target)):
            raise Divergence(f"{what}: the redirect must name {target} and carry the "
                             f"migration commit {c}; it names "
                             f"{redirect.target_domain_name.decode()} and carries a commit "
                             f"(epoch, committer, aad target) = {got}")
    if code == WrongEpoch.code and refusal.fields().get("current") != expected.epoch:
        raise Divergence(f"{what}: {why}; wrong_epoch must carry the current epoch "
                         f"{expected.epoch}, it carries {refusal.fields().get('current')}")
    return code
