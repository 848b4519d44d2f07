"""`validate` on the logs of a buggy implementation: every planted bug the lockstep's
session finds (tests/lockstep/planted.py) is rejected on the logs alone, but those the logs
do not show (`LOGS_DO_NOT_SHOW`, each with why, held to being accepted).

Each bug is planted, the lockstep session runs with the honest roles' logs written
(conform --trace), and the logs of the example that diverged are validated: the verdict
must be `rejected`, in the log of the role the bug is in, and where a rule's conjunct is
what the buggy role broke, naming that check id.  The bugs the session does not find
(only the transition tour does: `Bug.only`) leave no buggy behaviour in any log.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from impl.client import Client
from impl.ds import DeliveryService
from tests.lockstep.planted import BUGS, Bug, validate_logs

CHECK = {
    "content_signer_not_checked": "import.content_signed",
    "imports_expired_nonce": "import.nonce_pending",
    "response_signer_not_checked": "init.own_request",
    "complete_signer_not_checked": "fanout.signed_by_target",
    "group_exists_swallowed": "respond.group_id_unique",
    "second_migration_replaces_first": "request.no_migration_in_progress",
    "expiry_only_on_tick": "import.nonce_pending",
}
"""The check id a rejection names, for the bugs where a false conjunct is the reason."""

LOGS_DO_NOT_SHOW = {
    "reimports_other_content":
        "the second import's only traces are its answer to the rogue DS (a forged "
        "message's answer, which no rule reads: target_reacknowledge takes network "
        "contents only) and the member list a target's observation of the group it "
        "hosts from the rogue DS lists, which the model's host does not carry",
}
"""Bugs the session finds whose logs `validate` accepts, and why: the lockstep compares the
role's whole state, the logs show less.  A test holds each so, so that an entry whose bug
`validate` comes to see fails here and goes."""



@pytest.mark.parametrize("bug", BUGS, ids=lambda b: b.name)
def test_validate_rejects_the_logs_of_a_planted_bug(bug: Bug, tmp_path: Path) -> None:
    found = validate_logs(bug, tmp_path)
    if found is None:  # only a bug the tour is there for (`only`) may escape the session;
        assert bug.only is not None, "the lockstep session did not find it"
        return  # then no log shows it
    v = found.verdict
    if bug.name in LOGS_DO_NOT_SHOW:
        assert v.verdict == "accepted", (found.example, v.verdict, LOGS_DO_NOT_SHOW[bug.name])
        return
    assert v.verdict == "rejected", (found.example, v.verdict)
    log = Path(v.at.rsplit(":", 1)[0]).name
    if bug.cls is DeliveryService:
        assert log.startswith(("source.", "target.")), v.at
    elif bug.cls is Client:
        assert log.startswith("member-"), v.at
    if bug.name in CHECK:
        assert CHECK[bug.name] in [c.check for c in v.candidates], (v.at, v.candidates)
