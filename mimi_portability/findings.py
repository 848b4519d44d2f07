"""The findings report for the draft's authors: docs/findings.md, computed, never written.

This module owns what the report says and in what order; every verdict, trace, count and
figure in it comes from running the checkers when it is built:

- the explicit checker (model/checker.py) on every design (the reference, each variant of
  model/config.VARIANTS, each explored design of model/config.EXPLORED and the ad-hoc designs
  of diagrams/figures.FINDING_DROPS) on the default configuration;
- the Z3 proofs (proofs/prove.py): the reference design and the explored designs by
  induction, every variant's expected property by bounded model checking as deep as the
  explicit checker's shortest counterexample;
- the step witnesses of model/witness.py (findings F4 and F6: a step the unfixed design
  takes, searched for exhaustively in the fixed one);
- the figures of diagrams/ (the charts embedded here are the committed docs/figures/*.txt);
- the target policy of the draft's TODO 4, as a configuration of the checker.

What is written by hand is the prose around them: the draft's words, the title of each
decision and the proposed normative text (mimi_portability/decisions.py), and the
paragraphs of the report's own sections.  The check ids each paragraph is tied to are
read off model/rules.py.  Nothing here depends on the time or the machine (the proofs'
budgets are resource units, proofs/budget.py), so the same code writes the same bytes
(`mimi-portability findings --check` compares).

Over 500 lines on purpose: almost all of it is the report's text, one section function
per section in the order docs/findings.md reads, and a reader checking a sentence of the
report finds the code that writes it by reading this file from the top.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from diagrams import charts, figures, render_ascii
from model import witness
from model.checker import HOLDS, VARIANT_BUDGET, VIOLATED, DesignReport, check
from model.config import (
    EXPLORED,
    REFERENCE,
    VARIANTS,
    Config,
    DesignOptions,
    Variant,
    client_name,
    variant,
)
from model.properties import LIVENESS_ID, NEGATIVE_CONTROLS, PROPERTIES
from model.rules import CHECKS, action_of
from proofs import bmc, mutate
from proofs.encoding import ParametricUniverse
from proofs.properties import property_by_id
from proofs.prove import INDUCTION, PROVED, DesignProof, prove_design

from .decisions import DECISIONS, DRAFT, Decision
from .traces import format_trace

FIGURES = "figures"
"""docs/figures/, as a link from docs/findings.md."""

CONFIG = Config()
"""The configuration every explicit verdict of the report is for (`check`'s default)."""


# ---------------------------------------------------------------- running the checkers


@dataclass(frozen=True)
class Run:
    """Everything the report reads, computed once."""

    reports: dict[str, DesignReport]
    """Design name -> the explicit checker's verdicts on CONFIG (liveness included)."""
    proofs: dict[str, DesignProof]
    """The reference and the explored designs, by induction."""
    bmc_lengths: dict[str, int | None]
    """Variant -> the length of Z3's shortest counterexample to its property (None: none
    within the explicit checker's length)."""
    figures: dict[str, figures.Figure]
    finding_traces: dict[str, charts.FindingTrace]
    witnesses: dict[str, tuple[str, witness.Search, witness.Search]]
    """Finding -> (what the step is, the search in the unfixed design, in the fixed one)."""
    policy: dict[str, DesignReport]
    """Design -> the explicit verdicts under TODO 4's target policy."""
    policy_config: Config
    mutants: dict[str, mutate.Mutant]
    """Check id -> spec mutation of that check alone (the checks of F4, F6 and Q1)."""


def design_config(name: str) -> tuple[Config, Variant]:
    """The configuration and design a report name stands for ("drop:ID,..." included)."""
    if name.startswith("drop:"):
        ids = frozenset(name[len("drop:"):].split(","))
        design = Variant(name, DesignOptions(), None, "ad-hoc design", exploratory=True)
        return dataclasses.replace(CONFIG, drop=ids), design
    return CONFIG, variant(name)


def policy_config(config: Config = CONFIG) -> Config:
    """TODO 4's target policy: only the target's own clients may ask it to take a group.
    The model has no home DS for a client, so c0 stands for the target's client and every
    other client (the rogue X included) for a client of another DS."""
    others = frozenset(range(1, config.clients)) | {config.rogue_client_id}
    return dataclasses.replace(config, target_denies=others)


def prove_apart(designs: Sequence[Variant]) -> dict[str, DesignProof]:
    """Each design's Z3 proof in an interpreter of its own (two at a time).  How many
    resource units a query spends depends on what the solver's context met before it (the
    order of its terms steers Z3's heuristics), so a proof run after others in one process
    can spend its budget where a fresh one does not (proofs/budget.py); a fresh interpreter
    per design makes each verdict the one `mimi-portability prove --variant NAME` gives."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        futures = {d.name: pool.submit(prove_design, d) for d in designs}
        return {name: f.result() for name, f in futures.items()}


def run(progress: Callable[[str], None] | None = None) -> Run:
    def say(text: str) -> None:
        if progress is not None:
            progress(text)

    names = [REFERENCE.name, *(v.name for v in VARIANTS), *(v.name for v in EXPLORED)]
    names += [f"drop:{','.join(sorted(d))}" for d in figures.FINDING_DROPS]
    reports: dict[str, DesignReport] = {}
    for name in names:
        say(f"check {name}")
        config, design = design_config(name)
        budget = None if design.expected is None else VARIANT_BUDGET  # as `check` has it
        reports[name] = check(config, design=design, liveness=True, max_states=budget)
    say(f"prove {', '.join(d.name for d in (REFERENCE, *EXPLORED))}")
    proofs = prove_apart((REFERENCE, *EXPLORED))
    lengths: dict[str, int | None] = {}
    for v in VARIANTS:
        assert v.expected is not None
        k = reports[v.name].result(v.expected).length
        if k is None:
            lengths[v.name] = None
            continue
        say(f"bmc {v.name} {v.expected} to depth {k}")
        (result,) = bmc.run(CONFIG.with_options(v.options), [property_by_id(v.expected)], k)
        lengths[v.name] = result.depth if result.verdict == bmc.VIOLATED else None
    say("figures")
    drawn = {f.name: f for f in figures.build()}
    traces = {f.name: f for f in charts.finding_traces()}
    say("witnesses")
    witnesses: dict[str, tuple[str, witness.Search, witness.Search]] = {}
    f4 = Config(clients=1)
    witnesses["F4"] = (
        "a client acts on a MigrationResponse to another party's request",
        witness.step_witness(f4.with_options(variant("response_names_no_client").options),
                             witness.response_of_another_client),
        witness.step_witness(f4, witness.response_of_another_client))
    f6 = charts.FINDING_CONFIG
    witnesses["F6"] = (
        "a client ends its pending migration on a MigrationAborted naming another nonce",
        witness.step_witness(f6.with_options(variant("abort_names_no_nonce").options),
                             witness.abort_of_another_attempt),
        witness.step_witness(f6, witness.abort_of_another_attempt))
    restricted = policy_config()
    policy: dict[str, DesignReport] = {}
    for design in (REFERENCE, *VARIANTS):
        say(f"check {design.name} under TODO 4's policy")
        stop = frozenset() if design.expected is None else frozenset({design.expected})
        policy[design.name] = check(restricted, design=design, liveness=False, stop_at=stop)
    mutants: dict[str, mutate.Mutant] = {}
    for d in DECISIONS:
        if d.key in MUTATED:
            for name in d.designs:
                for i in _dropped(name):
                    say(f"mutate {i}")
                    mutants[i] = mutate.run_one(CHECKS[i], CONFIG)
    return Run(reports, proofs, lengths, drawn, traces, witnesses, policy, restricted,
               mutants)


MUTATED = ("F4", "F6", "Q1")
"""The decisions whose checks the report also mutates one at a time (the others' are in
`mimi-portability mutate`, which `verify` runs)."""


# ---------------------------------------------------------------- writing the report


def _verdicts(report: DesignReport) -> str:
    bad = [f"{r.property} ({r.length} steps)" for r in report.results if r.verdict == VIOLATED]
    open_ = [r.property for r in report.results if r.verdict not in (VIOLATED, HOLDS)]
    text = ("violates " + ", ".join(bad)) if bad else "holds every property"
    if open_:
        text += "; undecided: " + ", ".join(open_)
    return text


def _proof_line(proof: DesignProof, pid: str) -> str:
    v = proof.verdict(pid)
    if v.verdict == PROVED and v.method == INDUCTION:
        return "proved by induction (Z3, unbounded, any number of parties)"
    if v.verdict == PROVED:
        return f"proved for {v.bound_text()} (Z3, bounded model checking)"
    return f"{v.verdict} (Z3, {v.method})"


def _figure_links(name: str, drawn: dict[str, figures.Figure]) -> str:
    if name not in drawn:
        raise ValueError(f"no figure {name}")
    links = [f"[{fmt}]({FIGURES}/{figures.file_name(name, fmt)})"
             for fmt in ("svg", "txt", "artset") if fmt in drawn[name].formats()]
    return ", ".join(links)


def _chart(name: str, drawn: dict[str, figures.Figure],
           listing: Callable[[], list[str]] | None = None) -> list[str]:
    fig = drawn[name]
    if fig.ascii is None:
        assert listing is not None, name
        return [f"Figure `{name}` ({_figure_links(name, drawn)}; its ASCII art would be "
                f"wider than {render_ascii.WIDTH} columns, so the trace is listed):", "",
                "```", *listing(), "```", ""]
    return [f"Figure `{name}` ({_figure_links(name, drawn)}):", "", "```", *fig.ascii.rstrip(
        "\n").split("\n"), "```", ""]


def _dropped(name: str) -> list[str]:
    config, design = design_config(name)
    return sorted(config.with_options(design.options).dropped)


def _checks_text(ids: Sequence[str]) -> str:
    return ", ".join(f"`{i}`" for i in ids)


def _clauses(ids: Sequence[str]) -> list[str]:
    out = []
    for i in ids:
        c = CHECKS[i]
        where = f"docs/profile.md {c.clause}" if c.clause else "(no profile clause)"
        out.append(f"  - `{i}` ({action_of(c)}): {c.text}; {where}")
    return out


def _counterexample_name(name: str, report: DesignReport) -> str | None:
    """The committed figure of design `name`'s counterexample, if it has one."""
    if name.startswith("drop:"):
        config, _ = design_config(name)
        slug = figures.design_slug(config.drop)
        props = report.violated()
        return f"counterexample-{slug}__{props[0]}" if props else None
    return f"counterexample-{name}" if variant(name).expected is not None else None


def _reference_lines(r: Run, pids: Sequence[str]) -> list[str]:
    ref = r.reports[REFERENCE.name]
    proof = r.proofs[REFERENCE.name]
    out = []
    for pid in pids:
        if pid == LIVENESS_ID:
            out.append(f"- reference design, `{pid}`: {ref.result(pid).verdict} (explicit, "
                       f"{ref.states:,} states; bounded configurations only)")
            continue
        out.append(f"- reference design, `{pid}`: {ref.result(pid).verdict} (explicit, "
                   f"{ref.states:,} states); {_proof_line(proof, pid)}")
    return out


def _design_section(r: Run, name: str) -> list[str]:
    report = r.reports[name]
    config, design = design_config(name)
    about = ("the reference with these checks dropped" if name.startswith("drop:")
             else design.description)
    out = [f"**Without it: `{name}`** ({about}).",
           f"It drops {_checks_text(_dropped(name))}:", *_clauses(_dropped(name)), ""]
    out.append(f"- explicit checker, {config.summary()}: {_verdicts(report)} "
               f"({report.states:,} states, {report.transitions:,} transitions)")
    if name in r.bmc_lengths:
        expected = design.expected
        k = r.bmc_lengths[name]
        out.append(f"- Z3, bounded model checking of `{expected}`: "
                   + (f"violated in {k} steps, replayed through the model (the explicit "
                      "checker's length)" if k is not None else "not violated"))
    if name in r.proofs:
        proof = r.proofs[name]
        proved = [v.property for v in proof.verdicts if v.verdict == PROVED
                  and v.method == INDUCTION]
        out.append(f"- Z3: {len(proved)} of {len(proof.verdicts)} properties proved by "
                   "induction under this design (unbounded, any number of parties)"
                   + ("" if len(proved) == len(proof.verdicts) else
                      "; the others: " + ", ".join(
                          f"{v.property} {v.verdict} ({v.method})" for v in proof.verdicts
                          if v.property not in proved)))
    for i in _dropped(name):
        if i in r.mutants:
            m = r.mutants[i]
            killed = ", ".join(f"{p} ({n} steps)" for p, n in m.killed_by)
            out.append(f"- spec mutation, `{i}` dropped alone: {m.outcome}"
                       + (f" by {killed}" if killed else "")
                       + (f" ({m.detail})" if m.outcome == mutate.KEPT else ""))
    out.append("")
    figure = _counterexample_name(name, report)
    if figure is not None:
        prop = design.expected or report.violated()[0]
        trace = report.result(prop).trace or []
        out += [f"Shortest counterexample to `{prop}`:", "",
                *_chart(figure, r.figures, lambda: format_trace(config, trace))]
    else:
        out += ["No counterexample: nothing to draw.", ""]
    return out


def _expected_properties(r: Run, d: Decision) -> list[str]:
    out: list[str] = []
    for name in d.designs:
        _, design = design_config(name)
        props = [design.expected] if design.expected else r.reports[name].violated()
        for p in props:
            if p not in out:
                out.append(p)
    return out or [p.id for p in PROPERTIES]


def _decision_section(r: Run, d: Decision) -> list[str]:
    ids = sorted({i for name in d.designs for i in _dropped(name)})
    out = [f"### {d.key}. {d.title}", "",
           f"The draft ({DRAFT} {d.where}):", "", f"> {d.quote}", "",
           f"**Decision** (docs/profile.md), enforced by {_checks_text(ids)}.", ""]
    if d.note:
        out += [d.note, ""]
    for name in d.designs:
        out += _design_section(r, name)
    out += ["**The reference design** (every check in place):", "",
            *_reference_lines(r, _expected_properties(r, d)), ""]
    return out


def _summary(r: Run) -> list[str]:
    out = ["| | decision | draft | design without it | explicit checker | Z3 |",
           "|---|---|---|---|---|---|"]
    for d in DECISIONS:
        for name in d.designs:
            report = r.reports[name]
            if name in r.bmc_lengths:
                k = r.bmc_lengths[name]
                z3 = f"violated ({k})" if k is not None else "not violated"
            elif name in r.proofs:
                proof = r.proofs[name]
                z3 = ("all proved (induction)" if all(
                    v.verdict == PROVED and v.method == INDUCTION for v in proof.verdicts)
                      else "see below")
            else:
                z3 = "-"
            out.append(f"| {d.key} | {d.title} | {d.where.split(';')[0]} | `{name}` | "
                       f"{_verdicts(report)} | {z3} |")
    return out


def _reference_section(r: Run) -> list[str]:
    ref = r.reports[REFERENCE.name]
    proof = r.proofs[REFERENCE.name]
    universe = ParametricUniverse().summary()
    out = ["## The reference design", "",
           f"Explicit checker, {CONFIG.summary()}: {_verdicts(ref)} ({ref.states:,} states, "
           f"{ref.transitions:,} transitions, depth {ref.depth}).", "",
           f"Z3, by induction over the parametric universe ({universe}):", ""]
    for v in proof.verdicts:
        out.append(f"- `{v.property}`: {_proof_line(proof, v.property)}")
    if proof.induction is not None:
        out += ["", f"The inductive invariant has {len(proof.induction.invariant)} lemmas and "
                f"{len(proof.induction.obligations)} obligations."]
    out += ["", "Negative controls (deliberately false properties), explicit checker: "
            + ", ".join(f"`{p.id}` {_control(p.id)}" for p in NEGATIVE_CONTROLS) + ".", ""]
    return out


def _control(pid: str) -> str:
    from model.properties import property_by_id as model_property

    report = check(CONFIG, design=REFERENCE, properties=(model_property(pid),),
                   liveness=False, stop_at=frozenset({pid}))
    result = report.result(pid)
    return f"violated in {result.length} steps" if result.verdict == VIOLATED else "HOLDS"


def _matrix(r: Run) -> list[str]:
    pids = [p.id for p in PROPERTIES] + [LIVENESS_ID]
    out = ["| design | " + " | ".join(f"`{p}`" for p in pids) + " |",
           "|---|" + "---|" * len(pids)]
    for name, report in r.reports.items():
        cells = []
        for p in pids:
            res = report.result(p)
            cells.append(f"X {res.length}" if res.verdict == VIOLATED else
                         "." if res.verdict == HOLDS else res.verdict)
        out.append(f"| `{name}` | " + " | ".join(cells) + " |")
    return out


def _finding_section(r: Run, key: str, evidence: Sequence[str], model_note: str) -> list[str]:
    what, unfixed, fixed = r.witnesses[key]
    d = next(d for d in DECISIONS if d.key == key)
    bug_design = d.designs[0]
    out = [f"**What the model shows of {key}.** {model_note}", ""]
    steps = "none" if unfixed.trace is None else f"{len(unfixed.trace)} steps"
    out += [f"Step witness, \"{what}\":", "",
            f"- unfixed design `{bug_design}`: shortest trace {steps} "
            f"({unfixed.states:,} states searched)",
            "- fixed (reference) design: "
            + ("no such step in any reachable state (search exhausted, "
               f"{fixed.states:,} states)" if fixed.trace is None else
               f"FOUND in {len(fixed.trace)} steps"), ""]
    out += ["Implementation evidence (the implementation keeps the draft's structs):", "",
            *[f"- {e}" for e in evidence], ""]
    for name, f in sorted(r.finding_traces.items()):
        if f.finding == key:
            kind = "bug" if name.endswith("-bug") else "fix"
            out += [f"The {kind}, design `{f.design}`:", "", *_chart(name, r.figures)]
    if key == "F4":
        out += [f"The bug, design `{bug_design}`: the variant's counterexample "
                f"(`counterexample-{bug_design}`, above)."]
        out.append("")
    return out


def _policy_section(r: Run) -> list[str]:
    denied = ", ".join(client_name(r.policy_config, c)
                       for c in sorted(r.policy_config.target_denies))
    out = ["### Q2. Only clients of the target DS may request migration (TODO 4)", "",
           f"The draft ({DRAFT} §4):", "",
           "> TODO: The default policies suggested above may be a bit liberal. We might want "
           "to restrict them s.t. only clients from the target DS can request migration to "
           "that DS.", "",
           "The model's policies are configuration, not a rule of the protocol "
           "(`Config.target_denies`; the target checks its policy when it responds, "
           "`respond.target_policy`, and when it imports, `import.target_policy`). The model "
           "has no home DS for a client, so the restricted policy is modelled as: c0 is the "
           f"target's client, every other client is not (the target denies {denied}). "
           "Each design checked again under it, its expected property only:", "",
           "| design | default policy | only the target's clients |", "|---|---|---|"]
    for name, report in r.policy.items():
        _, design = design_config(name)
        default = r.reports[name]
        if design.expected is None:
            a, b = _verdicts(default), _verdicts(report)
        else:
            a = _one(default, design.expected)
            b = _one(report, design.expected)
        out.append(f"| `{name}` | {a} | {b} |")
    closed = [n for n, rep in r.policy.items() if (e := variant(n).expected) is not None
              and rep.result(e).verdict != VIOLATED]
    out += ["", "Read: the restriction is a policy the design already allows (every property "
            "holds under it in the reference design). "
            + (f"In this configuration it hides the counterexample of "
               f"{', '.join(f'`{n}`' for n in closed)}, and of none of the other variants: "
               "those counterexamples need a request by the rogue client X, whom the "
               "restricted target refuses. That is a property of this configuration (the "
               "adversary's one client is not the target's); a compromised client of the "
               "target itself, which the model does not have, would not be refused. So the "
               "restriction is defence in depth, not a replacement for the checks those "
               "variants drop."
               if closed else "It hides none of the variants' counterexamples."), ""]
    return out


def _one(report: DesignReport, pid: str) -> str:
    res = report.result(pid)
    if res.verdict == VIOLATED:
        return f"`{pid}` violated ({res.length} steps)"
    return f"`{pid}` {res.verdict}"


TODO1 = [
    "### Q3. Group ids tied to the owning DS (TODO 1)", "",
    f"The draft ({DRAFT} §2):", "",
    "> Even though this could be solved using a UUID, groups should also be tied to a "
    "specific owning delivery service.", "",
    "What the model checks today is D8 above: ids unique per DS, with the tombstone rule, "
    "against a compromised DS that presents a group of its own under an honest group's id "
    "(its content is signed by the rogue DS, so it is a different group with the same id: "
    "finding F1 of tests/test_lockstep_findings.py). Tying an id to its owning DS is not "
    "expressible yet: in the model a group id is a bare number shared by every DS "
    "(model/state.py), and the owner changes with every move, so an id naming its creator "
    "would have to stay valid at the next owner. A design option for it would need",
    "",
    "- a group id that names a DS (a field of the request and of the exported state, "
    "renamed with the DSs by model/symmetry.py);",
    "- a rule of the target's (`target_respond`, `target_import`) that accepts a request "
    "or content only from the DS the id names or from one the group has provably moved "
    "to, which needs the move to be verifiable by a third DS (a signed chain of "
    "MigrationConfirmations, or the tombstone made public);",
    "- and a configuration with two honest targets and two epochs, so that a group can "
    "move on from its first target (today's default has one epoch).",
    "",
    "Until then, what the model proves is D8: with its checks every property holds for any "
    "number of groups and DSs (the reference design's induction, above).", "",
]


def render(r: Run) -> str:
    lines = [
        f"# Findings about {DRAFT}",
        "",
        "Generated by `mimi-portability findings` (mimi_portability/findings.py) from the "
        "rules of model/rules.py, the explicit checker, the Z3 proofs and the figures of "
        "diagrams/; do not edit. `mimi-portability findings --check` fails when this file is "
        "not what the code gives now (tests/test_findings_current.py).",
        "",
        f"The draft is {DRAFT} (its text is that of -01; later versions only bump the "
        "date); its sections: §2 Architecture, §3 Migration (§3.1 Requesting a migration, "
        "§3.2 Initiating a migration), §4 Authorization. docs/profile.md states this "
        "project's decisions; each is a set of checks of model/rules.py "
        "(`mimi-portability checks`), and a design without it is a variant "
        "(`mimi-portability variants`) or an ad-hoc `--drop` design.",
        "",
        f"Every explicit verdict is for {CONFIG.summary()} (`check`'s default: the rogue DS "
        "R and the rogue client X collude); a counterexample is the shortest, and its chart "
        "is the committed figure under docs/figures/ (ASCII art for the draft, at most 69 "
        "columns; SVG in the RFC 7996 profile). Charts number the model's steps; `==` marks "
        "the violating step.",
        "",
        "## Summary",
        "",
        *_summary(r),
        "",
        "Every design x property (X n: violated, shortest counterexample n steps; `.`: "
        "holds):",
        "",
        *_matrix(r),
        "",
    ]
    unsigned = r.reports["unsigned_response"].violated()
    lines += [f"Of the findings so far: unsigned responses break only "
              f"{', '.join(f'`{p}`' for p in unsigned)}; predictable nonces break "
              f"{', '.join(f'`{p}`' for p in r.reports['predictable_nonces'].violated())} "
              "only together with unsigned responses (D6); the tombstone rule, F4 and F6 are "
              "below.", ""]
    lines += _reference_section(r)
    lines += ["## The decisions and the draft's TODOs", ""]
    for d in DECISIONS:
        if d.key.startswith("D"):
            lines += _decision_section(r, d)
    lines += ["## Open findings, with their fixes checked", "",
              "Both fixes are in the reference design, and each unfixed design is a design "
              "option declared beside the rule it changes (model/config.py, model/rules.py); "
              "the implementation (impl/) keeps the draft's structs, so it still shows both "
              "(the lockstep test reproduces them).", ""]
    for d in DECISIONS:
        if d.key == "F4":
            lines += _decision_section(r, d)
            lines += _finding_section(r, "F4", [
                "tests/test_lockstep_findings.py::test_f4_response_does_not_name_the_client: "
                "a response misdelivered to another member with the same request is refused "
                "by the model and accepted by the implementation",
                "impl/lockstep/moves.py `known_finding` keeps the lockstep sessions off it",
            ], "The model's MigrationRequest names its client (the authenticated channel), "
               "so the reference design is the fix. The unfixed design reads the draft's "
               "struct: no member can tell another's response from its own, and the source "
               "cannot check that the MigrationInit's signer asked. Its counterexample: a "
               "client acts on the response to the rogue client's request, and the source "
               "exports on it, so the migration starts under a request the target consented "
               "to for someone else (`authorized_migration`).")
        if d.key == "F6":
            lines += _decision_section(r, d)
            lines += _finding_section(r, "F6", [
                "tests/test_lockstep_findings.py::test_f6_rejection_does_not_name_the_attempt: "
                "a forwarded rejection of an aborted attempt ends a newer attempt in the "
                "implementation; the model refuses it",
                "impl/lockstep/moves.py `known_finding` keeps the lockstep sessions off it",
            ], "The model's MigrationAborted names the nonce it ends, so the reference design "
               "is the fix. The unfixed design breaks no safety property and no liveness "
               "property of the model (above): the client only stops waiting for its "
               "confirmation, and the fanned-out migration Commit still moves it. What it "
               "does break is the client's view of its own attempt, a step and not a state, "
               "so it is checked as a step witness (model/witness.py): the unfixed design "
               "takes the step, the fixed one never does.")
    lines += ["## The draft's open questions, checked as designs", ""]
    q1 = next(d for d in DECISIONS if d.key == "Q1")
    lines += _decision_section(r, q1)
    lines += ["What the model cannot express yet: in the model the Commit is part of the "
              "MigrationInit message (its epoch and AAD target are fields of it), so "
              "`commit_beside_init` keeps the two arriving together and only drops the check "
              "that ties them. The window between a Commit and its MigrationInit sent apart "
              "(a Commit with MigrationCommitAAD that arrives alone, and is either sequenced "
              "as a regular commit or holds the group locked with no MigrationContent) needs "
              "a Commit message kind of its own and a source action that holds an unpaired "
              "migration Commit (model/messages.py, model/rules.py).", ""]
    lines += _policy_section(r)
    lines += TODO1
    lines += ["## Proposed normative text", "",
              "One paragraph per decision, each with the checks of model/rules.py that "
              "enforce it (the checks a design without it drops).", ""]
    for d in DECISIONS:
        ids = sorted({i for name in d.designs for i in _dropped(name)})
        lines += [f"**{d.key}. {d.title}** ({_checks_text(ids)}). {d.normative}", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def build(progress: Callable[[str], None] | None = None) -> str:
    """The text of docs/findings.md."""
    return render(run(progress))
