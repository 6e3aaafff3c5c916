"""``domain.lifecycle`` is the only module that spells the states out.

Everywhere else a state is ``State.X``: a string literal equal to a state's name in the source
(``"awaiting_review"``) is a second definition waiting to drift. Some other vocabularies share a
few of these words on purpose (an outcome ``approved``, a notification kind ``rejected``); they
are listed below by the class or function that holds them, with the reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

from domain.lifecycle import State

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("domain", "workflows", "activities", "projections", "workers", "web")
THE_DEFINITION = ROOT / "domain" / "lifecycle.py"

OTHER_VOCABULARIES: dict[str, set[str]] = {
    # the outcomes of the contract's result: named after the state that decides them
    "FinalOutcome": {"approved", "rejected", "auto_rejected", "withdrawn", "expired"},
    # one notification per milestone, named after the state it tells the guardian about
    "NotificationKind": {"supplement_requested", "approved", "rejected", "auto_rejected",
                         "expired", "withdrawn"},
    # notification kinds, compared as strings by the milestone activity
    "prepare_notification": {"rejected", "supplement_requested"},
    # a declaration link's token that is past its time
    "TokenProblem": {"expired"},
    # the audit timeline's sentence for a reviewer's approval
    "timeline": {"approved"},
    # column headings of the `childreg status` and `childreg guardian` tables
    "status_table": {"submitted"},
    "guardian_table": {"submitted"},
}  # fmt: skip


def test_no_module_but_the_lifecycle_spells_out_a_state() -> None:
    names = {state.value for state in State}
    found = []
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == THE_DEFINITION:
                continue
            for scope, line, value in _string_literals(path):
                if value in names and value not in OTHER_VOCABULARIES.get(scope, set()):
                    found.append(f"{path.relative_to(ROOT)}:{line}: {value!r} (in {scope})")

    assert not found, "use domain.lifecycle.State instead of:\n" + "\n".join(found)


def test_the_scan_finds_a_state_spelled_out() -> None:
    source = "def waiting(state):\n    return state == 'awaiting_review'\n"

    assert ("waiting", 2, "awaiting_review") in _literals_of(ast.parse(source), "module")


def _string_literals(path: Path) -> list[tuple[str, int, str]]:
    return _literals_of(ast.parse(path.read_text(encoding="utf-8")), path.stem)


def _literals_of(tree: ast.AST, module: str) -> list[tuple[str, int, str]]:
    """Every string constant with the name of the innermost class or function holding it (the
    module's name at the top level)."""
    found: list[tuple[str, int, str]] = []

    def visit(node: ast.AST, scope: str) -> None:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            scope = node.name
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((scope, node.lineno, node.value))
        for child in ast.iter_child_nodes(node):
            visit(child, scope)

    visit(tree, module)
    return found
