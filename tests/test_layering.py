"""The layering of the packages: one way only, plain imports, the command line in one place.

mimi_portability/__init__.py says why: model/ is the ground, proofs/ and diagrams/ stand on it,
impl/ on nothing of them but its lockstep on model/, and mimi_portability/ (the command line,
`verify`, the registry of parts) on all of them; nothing imports it back.  These tests read
the import statements of every module (ast, nothing is imported) and build the real parser.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from mimi_portability.cli import build_parser

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("mimi_portability", "model", "proofs", "diagrams", "impl")
#: The packages each package may import (besides itself).
ALLOWED = {
    "model": set(),
    "proofs": {"model"},
    "diagrams": {"model"},
    "impl": {"model"},
    "mimi_portability": {"model", "proofs", "diagrams", "impl"},
}


def _imports(path: Path) -> set[str]:
    """The top-level names of the absolute imports in `path`."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module.split(".")[0])
    return out


def _modules(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


def test_every_package_imports_only_downward() -> None:
    wrong = []
    for package in PACKAGES:
        for path in _modules(package):
            for name in _imports(path) & set(PACKAGES) - {package} - ALLOWED[package]:
                wrong.append(f"{path.relative_to(REPO)} imports {name}")
    assert wrong == []


def test_only_the_conformance_parts_of_impl_stand_on_the_model() -> None:
    """The roles know nothing of the model; the lockstep and the log validator
    (impl/tracelog's names.py, logview.py and search.py) hold them to it.  The log format
    and our roles' recorder stand on impl alone, as another implementation's logger would."""
    users = {str(p.relative_to(REPO / "impl")) for p in _modules("impl")
             if "model" in _imports(p)}
    assert {u.split("/")[0] for u in users} == {"lockstep", "tracelog"}
    assert {u for u in users if u.startswith("tracelog")} == {
        "tracelog/logview.py", "tracelog/names.py", "tracelog/search.py"}


def test_no_import_by_string() -> None:
    found = [str(p.relative_to(REPO)) for package in PACKAGES for p in _modules(package)
             if "importlib" in _imports(p) or "__import__(" in p.read_text()]
    assert found == []


def test_the_command_line_lives_in_mimi_portability_alone() -> None:
    for package in PACKAGES[1:]:
        assert not (REPO / package / "__main__.py").exists(), package
        assert not list((REPO / package).rglob("commands.py")), package
        assert not list((REPO / package).rglob("cli.py")), package


def test_the_front_has_every_part_s_subcommands() -> None:
    parser = build_parser()
    (sub,) = (a for a in parser._actions if a.dest == "command")
    assert list(sub.choices) == [  # type: ignore[attr-defined]
        "verify", "vectors", "decode", "demo", "check", "variants", "checks", "prove", "mutate",
        "diagrams", "conform", "findings", "replay", "validate", "serve", "world", "workload"]


def test_help_does_not_import_z3() -> None:
    code = "import sys; from mimi_portability.cli import build_parser; build_parser(); " \
           "print(sorted(m for m in sys.modules if m == 'z3' or m.startswith('proofs.')))"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


LONG = 500
"""A module over this many lines says why in its docstring (issue #18)."""
CITED_MD = re.compile(r"(?<![\w./-])((?:\.\./)*[\w.-]+(?:/[\w.-]+)*\.md)\b")
"""A Markdown file named in a text: `docs/profile.md`, `profile.md`, `../x/y.md`."""
CLIMBS_OUT = re.compile(r"(?<![\w.])\.\./\w")
"""A path that climbs out of the repository's root."""
FENCED = re.compile(r"^```.*?^```", re.S | re.M)
"""A fenced block of Markdown: commands and what they print, not citations."""


def _all_modules() -> list[Path]:
    return sorted(p for top in (*PACKAGES, "bench") for p in (REPO / top).rglob("*.py"))


def test_a_module_over_500_lines_says_why_in_its_docstring() -> None:
    unexplained = []
    for path in _all_modules():
        if len(path.read_text().splitlines()) > LONG:
            doc = " ".join((ast.get_docstring(ast.parse(path.read_text())) or "").split())
            if "500 lines" not in doc or "on purpose" not in doc:
                unexplained.append(str(path.relative_to(REPO)))
    assert unexplained == []


def test_docstrings_and_docs_cite_no_file_outside_the_repository() -> None:
    texts = {str(p.relative_to(REPO)): ast.get_docstring(ast.parse(p.read_text())) or ""
             for p in _all_modules()}
    for doc in (REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))):
        texts[str(doc.relative_to(REPO))] = doc.read_text()
    assert _outside(texts) == set()


def _outside(texts: dict[str, str]) -> set[tuple[str, str]]:
    """(text, what it cites) for each path that climbs out of the repository and each
    Markdown file named that the repository does not have."""
    ours = {p.name for p in REPO.rglob("*.md") if not {".git", ".venv"} & set(p.parts)}
    outside = set()
    for name, text in texts.items():
        outside.update((name, m.group(0)) for m in CLIMBS_OUT.finditer(text))
        for cited in CITED_MD.findall(FENCED.sub("", text)):
            if not ((REPO / cited).exists() if "/" in cited else cited in ours):
                outside.add((name, cited))
    return outside


def test_a_citation_outside_the_repository_is_found() -> None:
    """The negative control of the check above."""
    assert _outside({"a": "see ../elsewhere/notes.txt", "b": "as nowhere.md says",
                     "c": "docs/nowhere/profile.md", "d": "docs/profile.md and profile.md",
                     "e": "```\nwrote out/README.md\n```"}) == {
        ("a", "../e"), ("b", "nowhere.md"), ("c", "docs/nowhere/profile.md")}
