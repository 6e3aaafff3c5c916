from pathlib import Path

import pytest
from typer.testing import CliRunner

from activities.notifications.kinds import NotificationKind
from activities.notifications.preview import render_preview
from activities.notifications.render import Renderer
from workers.cli import app
from workers.cli.notifications import example_milestone

README = Path(__file__).resolve().parents[3] / "README.md"


@pytest.mark.parametrize("kind", list(NotificationKind))
def test_the_preview_renders_every_kind_from_the_contracts_example(kind: NotificationKind) -> None:
    text = render_preview(Renderer(), example_milestone(kind))

    assert "Kính gửi ông/bà Nguyễn Văn An," in text
    assert "DK-1A2B3C4D" in text


def test_the_preview_command_prints_the_kinds_asked_for() -> None:
    printed = CliRunner().invoke(app, ["notifications", "preview", "received", "rejected"])

    assert printed.exit_code == 0, printed.output
    assert "=== received: email" in printed.output
    assert "=== rejected: SMS" in printed.output
    assert "=== approved" not in printed.output


def test_the_preview_command_refuses_an_unknown_kind() -> None:
    printed = CliRunner().invoke(app, ["notifications", "preview", "nonsense"])

    assert printed.exit_code == 2


def test_the_preview_writes_the_examples_declaration(tmp_path: Path) -> None:
    pdf = tmp_path / "to-khai.pdf"

    printed = CliRunner().invoke(app, ["notifications", "preview", "received", "--pdf", str(pdf)])

    assert printed.exit_code == 0, printed.output
    assert pdf.read_bytes().startswith(b"%PDF-")


def test_the_readme_sample_is_what_the_templates_render_today() -> None:
    sample = render_preview(Renderer(), example_milestone(NotificationKind.RECEIVED)).rstrip()

    assert sample in README.read_text("utf-8"), (
        "regenerate the sample in README.md (What a guardian receives) with "
        "childreg notifications preview received rejected"
    )
