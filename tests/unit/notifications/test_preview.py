from pathlib import Path

import pytest

from activities.notifications import preview
from activities.notifications.kinds import NotificationKind
from activities.notifications.render import Renderer

README = Path(__file__).resolve().parents[3] / "README.md"


@pytest.mark.parametrize("kind", list(NotificationKind))
def test_the_preview_renders_every_kind_from_the_contracts_example(kind: NotificationKind) -> None:
    text = preview.render_preview(Renderer(), kind)

    assert "Kính gửi ông/bà Nguyễn Văn An," in text
    assert "DK-1A2B3C4D" in text


def test_the_preview_writes_the_examples_declaration(tmp_path: Path) -> None:
    pdf = tmp_path / "to-khai.pdf"

    preview.main(["received", "--pdf", str(pdf)])

    assert pdf.read_bytes().startswith(b"%PDF-")


def test_the_readme_sample_is_what_the_templates_render_today() -> None:
    sample = preview.render_preview(Renderer(), NotificationKind.RECEIVED).rstrip()

    assert sample in README.read_text("utf-8"), (
        "regenerate the sample in README.md (What a guardian receives) with "
        "python -m activities.notifications.preview received rejected"
    )
