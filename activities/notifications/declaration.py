"""The declaration (tờ khai, "Mẫu số 01") as a PDF, laid out after Nghị định 166/2016/NĐ-CP.

For a child's registration the guardian's details are added and notices go to the guardian.
The text is set in Be Vietnam Pro (SIL Open Font License 1.1), installed as the
``fontpkg-be-vietnam-pro`` dependency, so Vietnamese renders on any machine without system fonts.

The output is byte-for-byte the same for the same input (the PDF's dates are the submission
time), so the attachment's SHA-256 recorded in the journal is stable across retries.

fpdf2 subsets the embedded fonts on every output and has no way to hand it a subset made
before; what it subsets can be made small, though: each process cuts the fonts once down to
the letters a Vietnamese declaration uses (:data:`REPERTOIRE`, 413 of 527 glyphs, no layout
tables), and a declaration whose text is all in it is set in those (measured: a render about
35% faster). Text with a letter outside it is set in the full fonts. fpdf2's parse of each
font file (``add_font``) is also made once per process and shared by the documents
(:func:`_parsed_font`), and a block of text that fits on one line is set as a ``cell``, not
through fpdf2's line breaking (:meth:`_Declaration.text_block`): the same bytes.
"""

from __future__ import annotations

import atexit
import copy
import io
import shutil
import tempfile
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any, cast
from uuid import UUID

import fontpkg_be_vietnam_pro  # type: ignore[import-untyped]
from fontTools import subset as font_subset  # type: ignore[import-untyped]
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont

from activities.notifications.kinds import short_reference
from activities.notifications.render import vn_date, vn_datetime
from domain.contract import RegistrationRequest
from domain.values import Relationship

FONT_FAMILY = "BeVietnamPro"
FONT_DIR = Path(fontpkg_be_vietnam_pro.ROOT) / "files"
FONT_FILES = {"": "BeVietnamPro-Regular.ttf", "B": "BeVietnamPro-Bold.ttf"}

REPERTOIRE = frozenset(
    code
    for first, last in (
        (0x20, 0x7E),  # Basic Latin
        (0xA0, 0x24F),  # Latin-1 Supplement, Latin Extended-A and -B (ă â đ ê ô ơ ư …)
        (0x300, 0x36F),  # combining diacritics
        (0x1EA0, 0x1EF9),  # Latin Extended Additional: Vietnamese letters with tones
        (0x2000, 0x206F),  # General Punctuation
        (0x20AB, 0x20AC),  # ₫ €
    )
    for code in range(first, last + 1)
)
"""The code points of the process's cut-down fonts."""

_cut_lock = threading.Lock()
_cut_dir: Path | None = None


def _cut_fonts() -> Path:
    """The fonts cut down to :data:`REPERTOIRE`, made once per process in a temporary directory
    (removed at exit). The cut is deterministic, so the declarations' bytes are too."""
    global _cut_dir
    with _cut_lock:
        if _cut_dir is None:
            directory = Path(tempfile.mkdtemp(prefix="childreg-fonts-"))
            atexit.register(shutil.rmtree, directory, ignore_errors=True)
            options = font_subset.Options(
                notdef_outline=True, recommended_glyphs=True, layout_features=[]
            )
            options.drop_tables += ["GSUB", "GPOS", "GDEF"]
            for filename in FONT_FILES.values():
                font = TTFont(str(FONT_DIR / filename), recalcTimestamp=False)
                subsetter = font_subset.Subsetter(options)
                subsetter.populate(unicodes=sorted(REPERTOIRE))
                subsetter.subset(font)
                font.save(str(directory / filename))
            _cut_dir = directory
        return _cut_dir


_parse_lock = threading.Lock()
_parsed: dict[tuple[str, Path], tuple[TTFFont, bytes, tuple[str, ...]]] = {}


def _parsed_font(style: str, path: Path) -> tuple[TTFFont, bytes, tuple[str, ...]]:
    """fpdf2's parse of a font file as ``add_font`` makes it, the file's bytes and its glyph
    order, made once per process (measured: a render about 11% faster than with ``add_font``
    per document, 31 ms against 35).

    Each document gets a shallow copy (:meth:`_Declaration.add_parsed_font`) that shares what
    fpdf2 only reads once the parse is made: the ``cmap`` and ``glyph_ids`` maps, the metrics,
    names and flags. Everything a document changes is its own: the fontTools font, which output
    subsets in place; the subset map; the widths map (a ``defaultdict``: looking up a letter the
    font lacks adds it); the font descriptor, which output numbers and points at the subset; the
    missing glyphs, the biggest size, the number ``i`` and the HarfBuzz font. So documents on
    any number of threads never write to what they share, and the parse itself is never output.
    The fonts are TrueType without colour glyphs (no Type 3 font object to share).
    Tests compare the bytes with those of ``add_font`` called per document, so a change in
    fpdf2's internals shows there."""
    with _parse_lock:
        if (style, path) not in _parsed:
            scratch = FPDF()
            scratch.add_font(FONT_FAMILY, style, str(path))
            font = cast(TTFFont, scratch.fonts[f"{FONT_FAMILY.lower()}{style}"])
            if font.is_cff or font.color_font is not None or "glyf" not in font.ttfont:
                # What is shared is checked for plain TrueType outlines only.
                raise ValueError(f"{path.name}: not a plain TrueType font, cannot be shared")
            order = tuple(font.ttfont.getGlyphOrder())
            font.close()  # its fontTools font is not read again: documents open their own
            _parsed[style, path] = (font, path.read_bytes(), order)
        return _parsed[style, path]


TITLE = (
    "TỜ KHAI ĐĂNG KÝ SỬ DỤNG, ĐIỀU CHỈNH THÔNG TIN VÀ NGỪNG SỬ DỤNG PHƯƠNG THỨC "
    "GIAO DỊCH ĐIỆN TỬ TRONG LĨNH VỰC BẢO HIỂM XÃ HỘI"
)
COMMITMENT = (
    "Tôi xin cam kết hoàn toàn chịu trách nhiệm trước pháp luật về tính chính xác, trung thực "
    "của nội dung nêu trên và thực hiện đúng các quy định về giao dịch điện tử trong lĩnh vực "
    "bảo hiểm xã hội."
)
REGISTERED_AT = "Cổng Thông tin điện tử BHXH Việt Nam (ứng dụng VssID)"

RELATIONSHIP_LABELS = {
    Relationship.FATHER: "Cha",
    Relationship.MOTHER: "Mẹ",
    Relationship.GUARDIAN: "Người giám hộ",
}

_NOT_GIVEN = "Không có"


def national_phone(e164: str) -> str:
    """``+84912345678`` -> ``0912345678``, as Vietnamese read it."""
    return "0" + e164[3:] if e164.startswith("+84") else e164


def declaration_filename(registration_id: UUID) -> str:
    return f"to-khai-{short_reference(registration_id)}.pdf"


def render_declaration(
    request: RegistrationRequest, *, registration_id: UUID, office_name: str
) -> bytes:
    """The declaration of one registration as PDF bytes.

    Rendered once per registration and process: the received and the approved emails both
    attach it, and laying it out and subsetting its fonts costs tens of milliseconds. The
    output depends only on these arguments, so the cached bytes are the ones a render gives."""
    return _rendered(request.model_dump_json(), registration_id, office_name)


@lru_cache(maxsize=256)
def _rendered(request_json: str, registration_id: UUID, office_name: str) -> bytes:
    return _render(
        RegistrationRequest.model_validate_json(request_json),
        registration_id=registration_id,
        office_name=office_name,
    )


def _render(request: RegistrationRequest, *, registration_id: UUID, office_name: str) -> bytes:
    text = request.model_dump_json() + office_name
    fits = all(ord(letter) in REPERTOIRE for letter in text if letter.isprintable())
    pdf = _Declaration(_cut_fonts() if fits else FONT_DIR)
    pdf.set_creation_date(request.submitted_at)
    pdf.set_title("Tờ khai đăng ký tài khoản giao dịch điện tử cho con (Mẫu số 01)")
    pdf.set_author("Bảo hiểm xã hội Việt Nam")
    pdf.set_creator("childreg")
    pdf.add_page()
    guardian, child = request.guardian, request.child

    pdf.header_block(short_reference(registration_id))
    pdf.heading("Kính gửi: " + office_name)

    pdf.section("I. THÔNG TIN NGƯỜI ĐƯỢC ĐĂNG KÝ (TRẺ EM DƯỚI 18 TUỔI)")
    pdf.field("1. Họ và tên", child.full_name)
    pdf.field("2. Mã số BHXH", child.social_insurance_code or _NOT_GIVEN)
    pdf.field("3. Số định danh cá nhân", child.personal_id_number or _NOT_GIVEN)
    pdf.field("4. Ngày sinh", vn_date(child.date_of_birth))

    pdf.section("II. THÔNG TIN CHA, MẸ HOẶC NGƯỜI GIÁM HỘ (NGƯỜI KHAI)")
    pdf.field("1. Họ và tên", guardian.full_name)
    pdf.field("2. Mã số BHXH", guardian.social_insurance_code)
    pdf.field("3. Quan hệ với trẻ", RELATIONSHIP_LABELS[guardian.relationship])
    pdf.field("4. Điện thoại di động", national_phone(guardian.phone))
    pdf.field("5. Thư điện tử", guardian.email or _NOT_GIVEN)

    pdf.section("III. THÔNG TIN ĐĂNG KÝ GIAO DỊCH ĐIỆN TỬ")
    channels = "Tin nhắn SMS đến điện thoại di động của người khai"
    if guardian.email:
        channels += "; thư điện tử của người khai"
    pdf.field("1. Nhận thông báo, xác thực qua", channels)
    pdf.field("2. Đăng ký giao dịch tại", REGISTERED_AT)
    pdf.field("3. Ngày bắt đầu đăng ký", vn_date(request.submission_date))
    pdf.field("4. Cơ quan BHXH tiếp nhận", f"{office_name} (mã {request.office_code})")
    pdf.field("5. Thời điểm nộp tờ khai", vn_datetime(request.submitted_at) + " (giờ Việt Nam)")

    pdf.section("IV. CAM KẾT")
    pdf.paragraph(COMMITMENT)
    accepted = request.commitment.accepted_at or request.submitted_at
    pdf.paragraph(
        "Người khai đã đồng ý cam kết trên ứng dụng VssID lúc "
        + vn_datetime(accepted)
        + " (giờ Việt Nam)."
    )
    pdf.signature(request, guardian.full_name)
    return bytes(pdf.output())


_LINE_BREAKING = frozenset("\n\r\f\u00a0\u00ad")
"""What fpdf2's ``multi_cell`` treats apart and ``cell`` does not: breaks, a dropped carriage
return, the no-break space (set as a space) and the soft hyphen (left out unless broken at)."""


class _Declaration(FPDF):
    """An A4 page with the form's building blocks."""

    LABEL_WIDTH = 70

    def __init__(self, font_dir: Path = FONT_DIR) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.set_margins(20, 15, 20)
        self.set_auto_page_break(auto=True, margin=15)
        for style, filename in FONT_FILES.items():
            self.add_parsed_font(style, font_dir / filename)
        self.set_font(FONT_FAMILY, "", 11)

    def add_parsed_font(self, style: str, path: Path) -> None:
        """What ``add_font(FONT_FAMILY, style, path)`` adds, from the process's parse of the
        file: shared where fpdf2 only reads, this document's own where it writes (see
        :func:`_parsed_font`)."""
        parsed, data, order = _parsed_font(style, path)
        font = copy.copy(parsed)
        font.i = len(self.fonts) + 1
        font.ttfont = TTFont(io.BytesIO(data), recalcTimestamp=False, lazy=True)
        # The cut fonts' post tables have no glyph names: the order would be rebuilt from the cmap.
        font.ttfont.setGlyphOrder(list(order))
        # fpdf2 subsets every embedded font on output; with bounding boxes recalculated,
        # fontTools decompiles and recompiles every kept glyph (about a third of a render).
        # The fonts' glyphs keep their stored bounds (the subset changes no outline).
        font.ttfont.recalcBBoxes = False
        font.cw = copy.copy(parsed.cw)  # a defaultdict still
        font.desc = copy.copy(parsed.desc)
        font.missing_glyphs = []
        font.biggest_size_pt = 0
        font._hbfont = None
        font.subset = SubsetMap(font)
        self.fonts[font.fontkey] = font

    def header_block(self, reference: str) -> None:
        self.set_font(FONT_FAMILY, "", 9)
        self.cell(0, 5, "Mẫu số 01", align="R", new_x="LMARGIN", new_y="NEXT")
        self.cell(
            0,
            5,
            "(Ban hành kèm theo Nghị định số 166/2016/NĐ-CP)",
            align="R",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        self.ln(2)
        self.set_font(FONT_FAMILY, "B", 11)
        self.cell(
            0, 6, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", align="C", new_x="LMARGIN", new_y="NEXT"
        )
        self.cell(0, 6, "Độc lập - Tự do - Hạnh phúc", align="C", new_x="LMARGIN", new_y="NEXT")
        self.ln(5)
        self.set_font(FONT_FAMILY, "B", 12)
        self.multi_cell(0, 6, TITLE, align="C", new_x="LMARGIN", new_y="NEXT")
        self.set_font(FONT_FAMILY, "", 10)
        self.cell(
            0,
            6,
            "(Đăng ký tài khoản giao dịch điện tử cho con)",
            align="C",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        self.cell(0, 6, "Mã hồ sơ: " + reference, align="C", new_x="LMARGIN", new_y="NEXT")
        self.ln(3)

    def heading(self, text: str) -> None:
        self.set_font(FONT_FAMILY, "B", 11)
        self.text_block(0, 6, text, new_x="LMARGIN", new_y="NEXT")

    def section(self, text: str) -> None:
        self.ln(3)
        self.set_font(FONT_FAMILY, "B", 11)
        self.text_block(0, 7, text, new_x="LMARGIN", new_y="NEXT")

    def field(self, label: str, value: str) -> None:
        self.set_font(FONT_FAMILY, "", 10.5)
        top = self.get_y()
        self.text_block(self.LABEL_WIDTH, 6, label + ":", new_x="RIGHT", new_y="TOP")
        self.set_font(FONT_FAMILY, "B", 10.5)
        self.text_block(0, 6, value, new_x="LMARGIN", new_y="NEXT")
        self.set_y(max(self.get_y(), top + 6))

    def text_block(self, width: float, height: float, text: str, **place: Any) -> None:
        """``multi_cell(width, height, text, align="L", …)``, as a ``cell`` when the text fits on
        one line: the same bytes (the tests compare them), without fpdf2's line breaking, which
        measures the line again for every character it adds (half a render's time)."""
        width = width or self.w - self.r_margin - self.x
        if (
            _LINE_BREAKING.isdisjoint(text)
            and self.get_string_width(text) <= width - 2 * self.c_margin
        ):
            self.cell(width, height, text, align="L", **place)
        else:
            self.multi_cell(width, height, text, align="L", **place)

    def paragraph(self, text: str) -> None:
        self.set_font(FONT_FAMILY, "", 10.5)
        self.multi_cell(0, 6, text, align="J", new_x="LMARGIN", new_y="NEXT")

    def signature(self, request: RegistrationRequest, name: str) -> None:
        self.ln(6)
        self.set_font(FONT_FAMILY, "", 10.5)
        day = request.submission_date
        place_date = f"Ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"
        self.cell(0, 6, place_date, align="R", new_x="LMARGIN", new_y="NEXT")
        self.set_font(FONT_FAMILY, "B", 10.5)
        self.cell(0, 6, "NGƯỜI KHAI", align="R", new_x="LMARGIN", new_y="NEXT")
        self.set_font(FONT_FAMILY, "", 9)
        self.cell(
            0, 5, "(Xác nhận điện tử trên ứng dụng VssID)", align="R", new_x="LMARGIN", new_y="NEXT"
        )
        self.ln(4)
        self.set_font(FONT_FAMILY, "B", 10.5)
        self.cell(0, 6, name, align="R", new_x="LMARGIN", new_y="NEXT")
