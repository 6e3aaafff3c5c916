"""Item 5: the recorded histories replay with the current workflow; a reordered copy fails."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import workflows.registration
from workers.cli.audit import register
from workers.replay import load_histories, replay

HISTORIES = Path(__file__).resolve().parents[2] / "histories"
BEFORE_THE_REDESIGN = HISTORIES / "recorded-2026-12-02"
"""Every path again, recorded on main before the layout was redesigned (issue 10): the code moved
around the workflow must still replay what it ran before."""
PATHS = {
    "approved", "rejected_by_update", "refused_then_approved", "auto_rejected_identity",
    "auto_rejected_document", "supplement_then_approved", "supplement_expired",
    "overdue_then_approved", "expired", "withdrawn",
}  # fmt: skip


@pytest.mark.parametrize("corpus", [HISTORIES, BEFORE_THE_REDESIGN], ids=["first", "pre-redesign"])
def test_every_path_of_the_lifecycle_has_a_recorded_history(corpus: Path) -> None:
    assert {name for name, _ in load_histories(corpus)} == PATHS


@pytest.mark.parametrize("corpus", [HISTORIES, BEFORE_THE_REDESIGN], ids=["first", "pre-redesign"])
def test_the_recorded_histories_replay_with_the_current_workflow(
    corpus: Path, tmp_path: Path
) -> None:
    app = typer.Typer()
    register(app)

    result = CliRunner().invoke(
        app,
        ["audit", "replay-workflows", str(corpus)],
        env={"CHILDREG_DATA_DIR": str(tmp_path), "CHILDREG_LOG_FORMAT": "json"},
    )

    assert result.exit_code == 0, result.output
    assert f"{len(PATHS)} histories replayed, 0 failed" in result.output


def test_a_workflow_that_runs_its_activities_in_another_order_fails_the_replay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = Path(workflows.registration.__file__).read_text(encoding="utf-8")
    first, second = "ActivityName.VERIFY_IDENTITY", "ActivityName.STORE_DOCUMENTS"
    assert source.count(first) == 1, "the copy below relies on one call of each"
    swapped = source.replace(first, "@first@").replace(second, first).replace("@first@", second)
    (tmp_path / "swapped_registration.py").write_text(swapped, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    swapped_module = importlib.import_module("swapped_registration")

    try:
        outcomes = replay(
            load_histories(HISTORIES), None, [swapped_module.ChildAccountRegistration]
        )
    finally:
        sys.modules.pop("swapped_registration", None)

    failed = {outcome.name: outcome.failure for outcome in outcomes if outcome.failure}
    assert "approved" in failed
    assert "Nondeterminism" in (failed["approved"] or "")
    assert "auto_rejected_identity" in failed or "auto_rejected_document" in failed
