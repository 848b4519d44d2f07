"""The decisions, findings and open questions the findings report is about, as data.

This module owns what is written by hand in docs/findings.md: for each decision of
docs/profile.md (D1..), each finding (F4, F6) and each open question of the draft (Q1..),
its title, the draft's section and words there (quoted briefly, from
draft-kohbrok-mimi-portability-04), the designs without it and the proposed normative text.
mimi_portability/findings.py runs the checkers on those designs and writes the report.
"""

from __future__ import annotations

from dataclasses import dataclass

DRAFT = "draft-kohbrok-mimi-portability-04"


@dataclass(frozen=True)
class Decision:
    """One decision of docs/profile.md (or a finding, or an open question of the draft)."""

    key: str
    title: str
    where: str
    """The draft's section (and TODO) the decision answers."""
    quote: str
    """The draft's words there, briefly."""
    designs: tuple[str, ...]
    """The designs without it: variants, explored designs, or ad-hoc `drop:` designs."""
    normative: str
    """The proposed text for the draft (MUST/SHOULD)."""
    note: str = ""


DECISIONS: tuple[Decision, ...] = (
    Decision(
        "D1", "Who signs what, with which key (signatures on every message)",
        "§3, TODOs 2 and 3",
        "TODO: Describe what keys are used for the signatures. / TODO: Describe that the "
        "crypto primitives should be aligned with the ciphersuite of the MLS group.",
        ("unsigned_response", "unsigned_content", "unsigned_init"),
        "Every signature MUST be SignWithLabel (RFC 9420) with the MLS group's ciphersuite "
        "over every field before the signature. The Target DS MUST sign MigrationResponse "
        "and TargetMigrationComplete with its key for that ciphersuite, the Source DS MUST "
        "sign MigrationContent and MigrationConfirmation, and the client MUST sign "
        "MigrationInit with its MLS leaf signature key. The Source DS MUST NOT lock or export "
        "a group unless the MigrationInit verifies under a current member's leaf key and the "
        "MigrationResponse inside it under the Target DS's key; the Target DS MUST NOT import "
        "a MigrationContent that is not signed by the Source DS its request names.",
    ),
    Decision(
        "D2", "The Commit is fanned out only after the target's acknowledgment",
        "§3.2",
        "The Source Delivery Service proceeds to fan out the client's Commit message that "
        "includes the MigrationCommmitAAD to the group.",
        ("fanout_before_ack",),
        "The Source DS MUST NOT fan out the migration Commit before it holds a "
        "TargetMigrationComplete, signed by the Target DS, whose migration_content_hash is "
        "the hash of the MigrationContent it sent.",
    ),
    Decision(
        "D3", "A locked source never unlocks on a timeout",
        "§3.2 (silent on a Source DS that gets no answer)",
        "The Target Delivery Service responds with a TargetMigrationComplete message",
        ("unlock_on_timeout",),
        "Once it has sent a MigrationContent, the Source DS MUST NOT unlock the group on a "
        "timeout. It SHOULD resend the same MigrationContent until it is answered, and MUST "
        "unlock only on a rejection signed by the Target DS for exactly that content (this "
        "project's TargetMigrationRejected).",
    ),
    Decision(
        "D4", "The nonce is bound to the request, looked up, and consumed",
        "§3.1",
        "struct { MigrationRequest migration_request; uint8[32] nonce; opaque "
        "signature<V>; } MigrationResponse;",
        ("no_nonce_check", "nonce_reuse"),
        "The Target DS MUST remember each nonce it issues bound to the MigrationRequest it "
        "answers, and MUST import a MigrationContent only if its MigrationResponse carries a "
        "pending nonce it issued for exactly that request. Importing MUST consume the nonce; "
        "a different MigrationContent for a consumed nonce MUST be refused.",
    ),
    Decision(
        "D5", "A consumed nonce is kept: a retried content is acknowledged again",
        "§3.2",
        "The Target Delivery Service responds with a TargetMigrationComplete message",
        ("forget_consumed_nonces",),
        "The Target DS MUST keep a consumed nonce and the hash it acknowledged as long as it "
        "hosts the imported group, and MUST answer a retried, identical MigrationContent with "
        "the same TargetMigrationComplete, never with a rejection.",
    ),
    Decision(
        "D6", "Nonces are unpredictable",
        "§3.1",
        "uint8[32] nonce;",
        ("predictable_nonces",),
        "The Target DS MUST draw each nonce (32 bytes) from a cryptographically secure "
        "random source.",
        "The model's variant predictable_nonces also leaves responses unsigned: while "
        "responses are signed, predictable nonces alone break none of the safety properties "
        "(model/config.py says so beside the variant).",
    ),
    Decision(
        "D7", "The migration Commit is for the current epoch, and locks the group",
        "§3.1, §3.2",
        "uint64 epoch; / The client also sends a Commit message to the group, where the AAD "
        "consists of a serialized MigrationCommitAAD struct.",
        ("no_epoch_check",),
        "The Source DS MUST accept a MigrationInit only together with a Commit for the "
        "group's current epoch, equal to the request's epoch, whose MigrationCommitAAD names "
        "the request's Target DS. From then on the group is locked: the Source DS MUST NOT "
        "sequence any other Commit for that epoch.",
    ),
    Decision(
        "D8", "Group ids are unique per DS, and a tombstone keeps the id",
        "§2, TODO 1",
        "This requires group IDs to be globally unique across all relevant Delivery "
        "Services.",
        ("no_group_id_uniqueness", "drop:respond.tombstone_kept"),
        "A Target DS MUST refuse a MigrationRequest for a group id it hosts or has a pending "
        "nonce for. A Source DS MUST keep a tombstone (group id, Target DS) for a group it "
        "moved, answer late messages for the group with a redirect, and, as a Target DS, "
        "refuse a request for that group id unless it comes from the DS the tombstone names.",
        "The tombstone rule is this project's finding: the explicit checker found that "
        "without it a compromised DS makes the old source import a forged group under the "
        "same id while a member is still there (members_follow_owner below; with two epochs, "
        "the fork of single_owner that tests/test_model_actions.py::"
        "test_a_tombstone_keeps_the_group_id replays).",
    ),
    Decision(
        "D9", "A confirmation is accepted only for the client's own pending nonce",
        "§3.2",
        "struct { opaque domain_name<V>; uint8[32] nonce; opaque group_id<V>; opaque "
        "signature<V>; } MigrationConfirmation;",
        ("confirmation_without_nonce_check",),
        "A client MUST accept a MigrationConfirmation only if it is signed by its current DS "
        "and names the nonce, the Target DS and the group of its own pending migration.",
    ),
    Decision(
        "D10", "What a DS keeps across a crash, and when it may send",
        "§2 (silent on crashes: the migration spans three machines)",
        "Once the MLS group state has been imported into the Target Delivery Service, the "
        "Source Delivery Service no longer has any responsibility for the MLS group.",
        ("volatile_lock", "volatile_nonces", "send_before_commit"),
        "A Delivery Service MUST keep durably, across a restart, the hosting status of every "
        "group (active; locked with the MigrationContent it exported; moved, with the Target "
        "DS), every nonce it issued with its state, and its tombstones. It MUST make the state "
        "change a received message causes durable, together with the messages it sends in "
        "answer, before it sends any of them, and resend those messages after a restart.",
        "docs/profile.md §8. The model restarts any honest party at any moment; the reference "
        "design keeps everything, so its restarts change nothing and no_group_lost is proved "
        "with the rest. A client's pending migration need not be durable for safety "
        "(`--drop client_restart.pending_durable` holds every property).",
    ),
    Decision(
        "F4", "The MigrationResponse binds the requesting client",
        "§3.1",
        "struct { opaque source_domain_name<V>; opaque target_domain_name<V>; opaque "
        "group_id<V>; uint64 epoch; } MigrationRequest;",
        ("response_names_no_client",),
        "The MigrationRequest SHOULD name the requesting client (for example its credential "
        "identity), so that the signed MigrationResponse does. A client MUST act only on a "
        "MigrationResponse to its own request, and the Source DS MUST accept a MigrationInit "
        "only if it is signed by the client the MigrationResponse names.",
    ),
    Decision(
        "F6", "The source's abort names the attempt it ends",
        "§3.2 (silent on a refused migration: TargetMigrationRejected is this project's)",
        "Finally, the Source Delivery Service responds to the client with a "
        "MigrationConfirmation message",
        ("abort_names_no_nonce",),
        "When the Source DS unlocks a group on a rejection, it MUST tell the initiating "
        "client in a message it signs that names the nonce of the attempt it ends; a client "
        "MUST end its pending migration only on such a message for its own pending nonce.",
    ),
    Decision(
        "Q1", "The Commit rides with the MigrationInit (PR #1's open question)",
        "§3.2; the draft's PR #1 left open whether the Commit rides inside MigrationInit",
        "The client also sends a Commit message to the group",
        ("commit_beside_init",),
        "The client MUST send the migration Commit to the Source DS in the same request as "
        "its MigrationInit, and the Source DS MUST check, before it locks, that the Commit is "
        "for the request's epoch and its MigrationCommitAAD names the request's Target DS.",
    ),
)
