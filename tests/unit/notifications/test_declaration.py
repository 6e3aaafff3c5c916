import hashlib
import io
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fpdf.fonts import TTFFont
from pypdf import PdfReader

from activities.notifications import declaration
from activities.notifications.declaration import (
    COMMITMENT,
    FONT_FAMILY,
    declaration_filename,
    render_declaration,
)
from domain.contract import RegistrationRequest
from tests.builders.notifications import OFFICE_NAME, REGISTRATION_ID, parsed_request


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_declaration_shows_both_names_with_their_diacritics() -> None:
    pdf = render_declaration(
        parsed_request(), registration_id=REGISTRATION_ID, office_name=OFFICE_NAME
    )

    text = text_of(pdf)
    assert "Nguyễn Minh Khôi" in text
    assert "Nguyễn Văn An" in text
    assert "TỜ KHAI ĐĂNG KÝ SỬ DỤNG, ĐIỀU CHỈNH THÔNG TIN VÀ NGỪNG SỬ DỤNG" in text
    assert "Mẫu số 01" in text


def test_the_declaration_has_the_guardian_the_office_the_time_and_the_commitment() -> None:
    pdf = render_declaration(
        parsed_request(), registration_id=REGISTRATION_ID, office_name=OFFICE_NAME
    )

    text = " ".join(text_of(pdf).split())
    assert "Quan hệ với trẻ: Cha" in text
    assert "Điện thoại di động: 0912345678" in text
    assert "Thư điện tử: an.nguyen@example.vn" in text
    assert "Mã số BHXH: 0123456789" in text
    assert "BHXH cơ sở Sài Gòn" in text
    assert "25/11/2026 09:00 (giờ Việt Nam)" in text
    assert "Mã hồ sơ: DK-1A2B3C4D" in text
    assert " ".join(COMMITMENT.split()) in text


def test_a_guardian_without_email_is_shown_as_having_none() -> None:
    pdf = render_declaration(
        parsed_request(email=None), registration_id=REGISTRATION_ID, office_name=OFFICE_NAME
    )

    assert "Thư điện tử: Không có" in text_of(pdf)


def test_the_same_registration_gives_the_same_bytes() -> None:
    first = render_declaration(
        parsed_request(), registration_id=REGISTRATION_ID, office_name=OFFICE_NAME
    )
    again = render_declaration(
        parsed_request(), registration_id=REGISTRATION_ID, office_name=OFFICE_NAME
    )

    assert first == again


def test_the_pdf_is_dated_at_the_submission() -> None:
    pdf = render_declaration(
        parsed_request(), registration_id=REGISTRATION_ID, office_name=OFFICE_NAME
    )

    metadata = PdfReader(io.BytesIO(pdf)).metadata
    assert metadata is not None
    assert metadata.creation_date is not None
    assert metadata.creation_date.isoformat().startswith("2026-11-25T09:00:00")


def test_the_file_is_named_after_the_short_reference() -> None:
    assert declaration_filename(REGISTRATION_ID) == "to-khai-DK-1A2B3C4D.pdf"


def test_another_process_renders_the_same_bytes_from_its_own_cut_fonts() -> None:
    script = (
        "import sys, hashlib\n"
        "from activities.notifications.declaration import render_declaration\n"
        "from tests.builders.notifications import OFFICE_NAME, REGISTRATION_ID, parsed_request\n"
        "pdf = render_declaration(parsed_request(), registration_id=REGISTRATION_ID,"
        " office_name=OFFICE_NAME)\n"
        "sys.stdout.write(hashlib.sha256(pdf).hexdigest())\n"
    )
    here = render_declaration(
        parsed_request(), registration_id=REGISTRATION_ID, office_name=OFFICE_NAME
    )
    there = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout

    assert there == hashlib.sha256(here).hexdigest()


def test_a_letter_outside_the_cut_fonts_is_set_in_the_full_fonts() -> None:
    pdf = render_declaration(
        parsed_request(), registration_id=REGISTRATION_ID, office_name="Phường Ẁ"
    )

    text = text_of(pdf)
    assert "Phường Ẁ" in text
    assert "Nguyễn Minh Khôi" in text


def embedded_fonts(pdf: bytes) -> list[bytes]:
    reader = PdfReader(io.BytesIO(pdf))
    fonts = []
    for page in reader.pages:
        resources: Any = page["/Resources"]
        for font in resources["/Font"].values():
            for descendant in font.get_object().get("/DescendantFonts", []):
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                fonts.append(descriptor["/FontFile2"].get_object().get_data())
    return fonts


def test_every_embedded_glyph_keeps_its_true_bounds() -> None:
    # The embedded fonts are saved without recalculating the bounding boxes (a third of a
    # render): each glyph's stored bounds must still be the ones its outline gives.
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

    pdf = render_declaration(
        parsed_request(), registration_id=REGISTRATION_ID, office_name=OFFICE_NAME
    )

    fonts = embedded_fonts(pdf)
    assert len(fonts) >= 2
    checked = 0
    for data in fonts:
        glyf = TTFont(io.BytesIO(data))["glyf"]
        for name in glyf.glyphOrder:
            glyph = glyf[name]
            if glyph.numberOfContours == 0:
                continue
            stored = (glyph.xMin, glyph.yMin, glyph.xMax, glyph.yMax)
            glyph.recalcBounds(glyf)
            assert (glyph.xMin, glyph.yMin, glyph.xMax, glyph.yMax) == stored, name
            checked += 1
    assert checked > 50


class _FontsParsedPerDocument(declaration._Declaration):
    """The declaration as it was set before the fonts' parse was shared: ``add_font`` per document."""

    def add_parsed_font(self, style: str, path: Path) -> None:
        self.add_font(FONT_FAMILY, style, str(path))
        font = self.fonts[FONT_FAMILY.lower() + style]
        assert isinstance(font, TTFFont)
        font.ttfont.recalcBBoxes = False


def rendered(request: RegistrationRequest, office_name: str = OFFICE_NAME) -> bytes:
    """A render that bypasses the process's cache of rendered declarations."""
    return declaration._render(request, registration_id=REGISTRATION_ID, office_name=office_name)


def rendered_with_fonts_parsed_per_document(
    monkeypatch: pytest.MonkeyPatch, request: RegistrationRequest, office_name: str = OFFICE_NAME
) -> bytes:
    with monkeypatch.context() as patch:
        patch.setattr(declaration, "_Declaration", _FontsParsedPerDocument)
        return rendered(request, office_name)


LONG_OFFICE = "Bảo hiểm xã hội cơ sở liên quận Hoàn Kiếm, Ba Đình, Đống Đa và Hai Bà Trưng, Hà Nội"
DECLARATIONS = pytest.mark.parametrize(
    ("request_fields", "office_name"),
    [
        ({}, OFFICE_NAME),
        ({"email": None}, OFFICE_NAME),
        ({"full_name": "Trần Thị Ngọc Ánh"}, "BHXH quận Hoàn Kiếm"),
        ({}, LONG_OFFICE),  # the heading and the office's field wrap
        ({}, "BHXH Bến\u00adThành"),  # a soft hyphen: multi_cell leaves it out
        ({}, "Phường Ẁ"),  # a letter outside the cut fonts: the full fonts
    ],
)


@DECLARATIONS
def test_the_shared_font_parse_gives_the_bytes_of_fonts_parsed_per_document(
    monkeypatch: pytest.MonkeyPatch, request_fields: dict[str, Any], office_name: str
) -> None:
    request = parsed_request(**request_fields)

    first = rendered(request, office_name)
    again = rendered(request, office_name)
    parsed_per_document = rendered_with_fonts_parsed_per_document(monkeypatch, request, office_name)

    assert first == parsed_per_document
    assert again == parsed_per_document


def test_a_fresh_process_gives_the_bytes_of_fonts_parsed_per_document(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    script = (
        "import sys, hashlib\n"
        "from activities.notifications.declaration import _render\n"
        "from tests.builders.notifications import OFFICE_NAME, REGISTRATION_ID, parsed_request\n"
        "for _ in range(2):\n"
        "    pdf = _render(parsed_request(), registration_id=REGISTRATION_ID,"
        " office_name=OFFICE_NAME)\n"
        "    sys.stdout.write(hashlib.sha256(pdf).hexdigest() + '\\n')\n"
    )

    there = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    here = rendered_with_fonts_parsed_per_document(monkeypatch, parsed_request())

    assert there == [hashlib.sha256(here).hexdigest()] * 2


def test_two_threads_rendering_different_declarations_get_their_sequential_bytes() -> None:
    requests = [parsed_request(), parsed_request(full_name="Trần Thị Ngọc Ánh", email=None)]
    sequential = [rendered(request) for request in requests]
    start = threading.Barrier(len(requests))

    def render_repeatedly(request: RegistrationRequest) -> set[bytes]:
        start.wait()
        return {rendered(request) for _ in range(8)}

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        concurrent = list(pool.map(render_repeatedly, requests))

    assert sequential[0] != sequential[1]
    assert concurrent == [{pdf} for pdf in sequential]


class _CountingMultiCells(declaration._Declaration):
    multi_cells = 0

    def multi_cell(self, *args: Any, **kwargs: Any) -> Any:
        type(self).multi_cells += 1
        return super().multi_cell(*args, **kwargs)


class _EveryBlockBrokenIntoLines(_CountingMultiCells):
    """The declaration as it was set before one-line blocks became cells: ``multi_cell`` always."""

    def text_block(self, width: float, height: float, text: str, **place: Any) -> None:
        self.multi_cell(width, height, text, align="L", **place)


@DECLARATIONS
def test_one_line_blocks_set_as_cells_give_the_bytes_of_multi_cell(
    monkeypatch: pytest.MonkeyPatch, request_fields: dict[str, Any], office_name: str
) -> None:
    request = parsed_request(**request_fields)
    _CountingMultiCells.multi_cells = _EveryBlockBrokenIntoLines.multi_cells = 0

    with monkeypatch.context() as patch:
        patch.setattr(declaration, "_Declaration", _CountingMultiCells)
        now = rendered(request, office_name)
    with monkeypatch.context() as patch:
        patch.setattr(declaration, "_Declaration", _EveryBlockBrokenIntoLines)
        before = rendered(request, office_name)

    assert now == before
    # The fast path was taken: most blocks are one line.
    assert _CountingMultiCells.multi_cells < _EveryBlockBrokenIntoLines.multi_cells / 3


def test_a_block_too_long_for_one_line_still_wraps() -> None:
    text = text_of(rendered(parsed_request(), LONG_OFFICE))

    assert "Hai Bà Trưng" in text
    # Two lines for the office's field: its value broke before its end.
    lines = [line for line in text.splitlines() if "Hoàn Kiếm" in line or "Hà Nội" in line]
    assert len(lines) >= 2, lines
    assert not [line for line in lines if "Hoàn Kiếm" in line and "Hà Nội" in line], lines
