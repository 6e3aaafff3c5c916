"""Issue 15 item 6: a sweep of bad inputs. Each case is a named test id; the README's
"### Bad inputs" table lists the same ids (checked by :func:`test_the_readme_table_lists_every_case`).

Each case checks the error names the field and the rule, and that nothing was half-stored: the
intake directory and the registry data are unchanged."""

from __future__ import annotations

import re
import struct
import tracemalloc
import unicodedata
import zlib
from pathlib import Path
from typing import Any

import pytest

from activities.documents import DocumentRefused, DocumentStore, inspect
from activities.registry import read_registry
from domain.intake import RefusedRequest, read_submission
from domain.registry import RegistryLoadError
from tests.builders import DELETE, a_request, encoded, jpeg_with_gps, scan, sharp_jpeg
from tests.builders.images import truncated_jpeg

README = Path(__file__).parents[2] / "README.md"
WORKFLOW_ID = "registration-vssid-20261125-000123"


def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"a": value}
    return value


# --- the contract JSON ---------------------------------------------------------------------------

CONTRACT_CASES: list[Any] = [
    pytest.param({"request_id": 123}, "request_id", id="contract-request-id-a-number"),
    pytest.param({"request_id": DELETE}, "request_id", id="contract-request-id-missing"),
    pytest.param({"request_id": "vssid\x00-1"}, "request_id", id="contract-request-id-nul"),
    pytest.param({"request_id": "x" * 1_000_000}, "request_id", id="contract-request-id-1mb"),
    pytest.param({"submitted_at": 20261125}, "submitted_at", id="contract-submitted-at-a-number"),
    pytest.param({"submitted_at": DELETE}, "submitted_at", id="contract-submitted-at-missing"),
    pytest.param(
        {"submitted_at": "2026-02-30T09:00:00+07:00"},
        "submitted_at",
        id="contract-submitted-at-feb-30",
    ),
    pytest.param({"guardian": "me"}, "guardian", id="contract-guardian-a-string"),
    pytest.param({"guardian": []}, "guardian", id="contract-guardian-a-list"),
    pytest.param({"guardian__phone": 912345678}, "guardian.phone", id="contract-phone-a-number"),
    pytest.param({"guardian__phone": "09\x0012345678"}, "guardian.phone", id="contract-phone-nul"),
    pytest.param(
        {"guardian__email": "a@b\ud800.vn"}, "guardian.email", id="contract-email-lone-surrogate"
    ),
    pytest.param(
        {"guardian__relationship": None}, "guardian.relationship", id="contract-relationship-null"
    ),
    pytest.param(
        {"guardian__relationship": "FATHER "},
        "guardian.relationship",
        id="contract-relationship-not-in-the-list",
    ),
    pytest.param({"child": None}, "child", id="contract-child-null"),
    pytest.param({"child__full_name": 42}, "child.full_name", id="contract-child-name-a-number"),
    pytest.param({"child__full_name": "Khôi\x00"}, "child.full_name", id="contract-child-name-nul"),
    pytest.param(
        {"child__full_name": "Kh\ud800i"},
        "child.full_name",
        id="contract-child-name-lone-surrogate",
    ),
    pytest.param(
        {"child__full_name": "K" + "\u0301" * 10_000},
        "child.full_name",
        id="contract-child-name-combining-flood",
    ),
    pytest.param(
        {"child__full_name": "N" * 1_000_000}, "child.full_name", id="contract-child-name-1mb"
    ),
    pytest.param(
        {"child__full_name": {"a": 1}}, "child.full_name", id="contract-child-name-an-object"
    ),
    pytest.param(
        {"child__date_of_birth": "2019-02-30"},
        "child.date_of_birth",
        id="contract-birth-date-feb-30",
    ),
    pytest.param(
        {"child__date_of_birth": "0000-01-01"},
        "child.date_of_birth",
        id="contract-birth-date-year-0",
    ),
    pytest.param(
        {"child__date_of_birth": 20190314}, "child.date_of_birth", id="contract-birth-date-a-number"
    ),
    pytest.param(
        {"child__date_of_birth": "9999-12-31"},
        "child.date_of_birth",
        id="contract-birth-date-far-future",
    ),
    pytest.param(
        {"child__social_insurance_code": 7912345678},
        "child.social_insurance_code",
        id="contract-child-code-a-number",
    ),
    pytest.param(
        {"child__social_insurance_code": "79123456７8"},
        "child.social_insurance_code",
        id="contract-child-code-fullwidth-digit",
    ),
    pytest.param({"office_code": 79001}, "office_code", id="contract-office-a-number"),
    pytest.param({"office_code": "79\x00001"}, "office_code", id="contract-office-nul"),
    pytest.param({"documents": "sha256:abc"}, "documents", id="contract-documents-a-string"),
    pytest.param({"documents__portrait": 1}, "documents.portrait", id="contract-portrait-a-number"),
    pytest.param(
        {"documents__portrait": _nested(500)},
        "documents.portrait",
        id="contract-portrait-deeply-nested",
    ),
    pytest.param(
        {"commitment__accepted": "no"}, "commitment.accepted", id="contract-commitment-a-string"
    ),
    pytest.param({"commitment": DELETE}, "commitment", id="contract-commitment-missing"),
    pytest.param({"commitment": True}, "commitment", id="contract-commitment-a-boolean"),
    pytest.param(
        {"guardian__social_insurance_code": DELETE},
        "guardian.social_insurance_code",
        id="contract-guardian-code-missing",
    ),
    pytest.param(
        {"guardian__social_insurance_code": "012345678"},
        "guardian.social_insurance_code",
        id="contract-guardian-code-9-digits",
    ),
    pytest.param(
        {"guardian__social_insurance_code": ["0123456789"]},
        "guardian.social_insurance_code",
        id="contract-guardian-code-a-list",
    ),
    pytest.param(
        {"guardian__phone": "+84" + "9" * 1_000_000}, "guardian.phone", id="contract-phone-1mb"
    ),
    pytest.param({"guardian__email": "@" * 10_000}, "guardian.email", id="contract-email-ats"),
    pytest.param(
        {"guardian__relationship": 1}, "guardian.relationship", id="contract-relationship-a-number"
    ),
    pytest.param({"child__full_name": ""}, "child.full_name", id="contract-child-name-empty"),
    pytest.param(
        {"child__date_of_birth": "2019-13-01"},
        "child.date_of_birth",
        id="contract-birth-date-month-13",
    ),
    pytest.param(
        {"child__date_of_birth": ""}, "child.date_of_birth", id="contract-birth-date-empty"
    ),
    pytest.param({"office_code": ""}, "office_code", id="contract-office-empty"),
    pytest.param({"office_code": "7" * 1_000_000}, "office_code", id="contract-office-1mb"),
    pytest.param(
        {"documents__birth_certificate": "sha256:" + "A" * 64},
        "documents.birth_certificate",
        id="contract-document-uppercase-digest",
    ),
    pytest.param(
        {"submitted_at": "0000-01-01T00:00:00+07:00"},
        "submitted_at",
        id="contract-submitted-at-year-0",
    ),
]


@pytest.mark.parametrize(("changes", "field"), CONTRACT_CASES)
def test_a_bad_request_is_refused_naming_the_field(changes: dict[str, Any], field: str) -> None:
    sent = a_request(**changes)
    refused = read_submission(sent, WORKFLOW_ID)

    assert isinstance(refused, RefusedRequest)
    assert refused.field == field, refused.detail
    assert (
        refused.detail.startswith(field)
        or f"; {field}" in refused.detail
        or field in refused.detail
    )
    # the rule, never the value sent
    assert len(refused.detail) < 2_000
    assert "\x00" not in refused.detail


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param([], id="contract-a-list"),
        pytest.param("a string", id="contract-a-string"),
        pytest.param(None, id="contract-null"),
        pytest.param(_nested(2_000), id="contract-deeply-nested-object"),
    ],
)
def test_a_request_that_is_no_request_object_is_refused(raw: Any) -> None:
    refused = read_submission(raw, WORKFLOW_ID)

    assert isinstance(refused, RefusedRequest)
    assert refused.request_id == WORKFLOW_ID
    assert refused.reason_code == "INVALID_REQUEST"


def test_extra_fields_are_ignored(  # id: contract-extra-fields
) -> None:
    sent = a_request()
    sent["channel"] = "vssid-app"
    sent["child"]["nickname"] = "Bin"

    assert not isinstance(read_submission(sent, WORKFLOW_ID), RefusedRequest)


# --- registry CSVs ---------------------------------------------------------------------------------

PERSONS = (
    "social_insurance_code,personal_id_number,full_name,date_of_birth,gender,household_code,"
    "health_insurance_card_number"
)
PERSON = "7900000011,079220000011,Nguyễn Minh Khôi,2020-03-14,male,HGD790001,HS4797900000011"
PERSON2 = "7900000012,079220000012,Nguyễn Ngọc Diệp,2016-08-30,female,HGD790001,HS4797900000012"


def _text(*lines: str, end: str = "\n") -> str:
    return end.join(lines) + end


REGISTRY_REFUSED: list[Any] = [
    pytest.param(
        _text(PERSONS, PERSON).encode("utf-16"),
        "persons.csv:1: file: is not UTF-8",
        id="registry-utf16",
    ),
    pytest.param(
        unicodedata.normalize("NFD", _text(PERSONS, PERSON)).encode("cp1258", "replace"),
        "persons.csv:2: file: is not UTF-8",
        id="registry-windows-1258",
    ),
    pytest.param(
        _text(PERSONS, PERSON, PERSON).encode(),
        "social_insurance_code",
        id="registry-duplicate-key-in-a-file",
    ),
    pytest.param(b"", "persons.csv:1: header: the file is empty", id="registry-empty-file"),
    pytest.param(
        _text(PERSONS).replace("full_name", "name").encode(),
        "column 3: unknown column",
        id="registry-unknown-column",
    ),
    pytest.param(
        _text(PERSONS.replace(",gender", "")).encode(),
        "gender: missing column",
        id="registry-missing-column",
    ),
    pytest.param(
        _text(PERSONS, PERSON.replace("2020-03-14", "2019-02-30")).encode(),
        "persons.csv:2: date_of_birth: must be a date written YYYY-MM-DD",
        id="registry-birth-date-feb-30",
    ),
    pytest.param(
        _text(PERSONS, PERSON + ",extra").encode(), "row: has 8 cells", id="registry-extra-cell"
    ),
    pytest.param(
        _text(PERSONS, PERSON.replace("Nguyễn Minh Khôi", '"Nguyễn"x')).encode(),
        "file: is not valid CSV",
        id="registry-bad-quote",
    ),
    pytest.param(
        _text(PERSONS, PERSON.replace("Nguyễn Minh Khôi", "Kh\x00i")).encode(),
        "persons.csv:2",
        id="registry-nul-byte",
    ),
    pytest.param(
        _text(PERSONS).encode() + b"x" * 200_000 + b"\n",
        "file: is not valid CSV",
        id="registry-a-200-kb-line",
    ),
]


@pytest.mark.parametrize(("content", "problem"), REGISTRY_REFUSED)
def test_a_bad_registry_file_is_refused_naming_where(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    (tmp_path / "persons.csv").write_bytes(content)

    with pytest.raises(RegistryLoadError) as raised:
        read_registry(tmp_path)

    assert any(problem in line for line in raised.value.problems), raised.value.problems
    assert not any("Khôi" in line for line in raised.value.problems)


REGISTRY_ACCEPTED: list[Any] = [
    pytest.param(b"\xef\xbb\xbf" + _text(PERSONS, PERSON).encode(), id="registry-bom"),
    pytest.param(_text(PERSONS, PERSON, end="\r\n").encode(), id="registry-crlf"),
    pytest.param(
        _text(
            ",".join(reversed(PERSONS.split(","))), ",".join(reversed(PERSON.split(",")))
        ).encode(),
        id="registry-header-in-another-order",
    ),
]


@pytest.mark.parametrize("content", REGISTRY_ACCEPTED)
def test_a_registry_file_in_another_form_is_read_the_same(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "persons.csv").write_bytes(content)

    (person,) = read_registry(tmp_path).persons

    assert person.full_name == "Nguyễn Minh Khôi"
    assert person.social_insurance_code == "7900000011"


@pytest.mark.parametrize(
    "formula",
    [
        pytest.param("=cmd|' /C calc'!A0", id="registry-formula-cmd"),
        pytest.param("@SUM(1+1)", id="registry-formula-at"),
    ],
)
def test_a_formula_like_cell_is_refused_by_the_name_rule(tmp_path: Path, formula: str) -> None:
    (tmp_path / "persons.csv").write_text(
        _text(PERSONS, PERSON.replace("Nguyễn Minh Khôi", f'"{formula}"')), encoding="utf-8"
    )

    with pytest.raises(RegistryLoadError) as raised:
        read_registry(tmp_path)

    assert raised.value.problems == [
        "persons.csv:2: full_name: a name may hold only letters, spaces, apostrophes, dots and"
        " hyphens"
    ]


def test_registry_duplicate_keys_across_files(tmp_path: Path) -> None:  # registry-duplicate-across
    (tmp_path / "accounts.csv").write_text(
        _text(
            "social_insurance_code,status,phone,email", "7900000011,active,,", "7900000011,locked,,"
        ),
        encoding="utf-8",
    )
    (tmp_path / "persons.csv").write_text(_text(PERSONS, PERSON, PERSON2), encoding="utf-8")

    with pytest.raises(RegistryLoadError) as raised:
        read_registry(tmp_path)

    assert any(
        "accounts.csv" in line and "social_insurance_code" in line for line in raised.value.problems
    ), raised.value.problems


def test_registry_a_100_mb_file_is_streamed(tmp_path: Path) -> None:  # registry-100-mb-file
    path = tmp_path / "persons.csv"
    bad_row = (b"7900000011,1,2,3\n") * 4096
    with path.open("wb") as out:
        out.write(PERSONS.encode() + b"\n")
        while out.tell() < 100 * 1024 * 1024:
            out.write(bad_row)
    tracemalloc.start()
    try:
        with pytest.raises(RegistryLoadError) as raised:
            read_registry(tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 20 * 1024 * 1024
    assert "reading stopped here" in raised.value.problems[-1]
    assert "row: has 4 cells where the header has 7" in raised.value.problems[0]


# --- documents -------------------------------------------------------------------------------------


def _png_bomb(side: int) -> bytes:
    """A valid PNG header claiming ``side`` × ``side`` pixels with a tiny compressed body."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    body = zlib.compress(b"\x00" * (side + 1) * 64, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def _jpeg_header(width: int, height: int) -> bytes:
    data = bytearray(sharp_jpeg())
    at = data.index(b"\xff\xc0") + 5
    data[at : at + 4] = struct.pack(">HH", height, width)
    return bytes(data)


DOCUMENT_CASES: list[Any] = [
    pytest.param(
        b"%PDF-1.4\n1 0 obj\n", "a document must be a JPEG or PNG image", id="document-a-pdf"
    ),
    pytest.param(b"", "a document must be a JPEG or PNG image", id="document-empty"),
    pytest.param(
        "giấy khai sinh".encode(), "a document must be a JPEG or PNG image", id="document-text"
    ),
    pytest.param(
        _png_bomb(60_000),
        "a document must be at most 50000000 pixels",
        id="document-png-decompression-bomb",
    ),
    pytest.param(
        _jpeg_header(30_000, 30_000),
        "a document must be at most 50000000 pixels",
        id="document-jpeg-30000-by-30000",
    ),
    pytest.param(truncated_jpeg(), "the image cannot be decoded", id="document-truncated-jpeg"),
    pytest.param(encoded(scan(200, 100), "PNG"), "at least 300 pixels", id="document-too-small"),
    pytest.param(
        b"\xff\xd8\xff" + b"\x00" * 100,
        "a document must be a JPEG or PNG image",
        id="document-jpeg-magic-only",
    ),
]


@pytest.mark.parametrize(("data", "rule"), DOCUMENT_CASES)
def test_a_bad_document_is_refused_with_its_rule(tmp_path: Path, data: bytes, rule: str) -> None:
    with pytest.raises(DocumentRefused) as refused:
        inspect(data)
    if "JPEG or PNG" in rule or ("pixels" in rule and "at most" in rule):
        # refused at the intake too, before anything is written
        with pytest.raises(DocumentRefused):
            DocumentStore(tmp_path).put(data)
        assert not any(p.is_file() for p in tmp_path.rglob("*"))

    assert rule in str(refused.value)
    assert refused.value.reason_code in {"DOCUMENT_UNREADABLE", "DOCUMENT_TOO_LARGE"}


def test_document_over_10_mb_put_leaves_the_intake_empty(  # document-over-10-mb
    tmp_path: Path,
) -> None:
    store = DocumentStore(tmp_path)

    with pytest.raises(DocumentRefused, match="at most 10485760 bytes"):
        store.put(sharp_jpeg() + b"\x00" * (10 * 1024 * 1024))

    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_document_a_polyglot_is_kept_as_a_clean_image(  # document-polyglot
) -> None:
    polyglot = sharp_jpeg() + b"PK\x03\x04" + b"<script>alert(1)</script>" * 100

    kept = inspect(polyglot).kept

    assert b"PK\x03\x04" not in kept
    assert b"<script>" not in kept


def test_document_gps_exif_is_stripped(  # document-exif-gps
) -> None:
    """Documents are kept re-encoded (activities/documents.py ``_reencode``): GPS is stripped,
    not refused; the guardian's photo is usable, its location never kept."""
    import io

    from PIL import Image

    sent = jpeg_with_gps()
    kept = inspect(sent).kept

    assert Image.open(io.BytesIO(sent)).getexif().get(0x8825) is not None
    assert not Image.open(io.BytesIO(kept)).getexif()


# --- the README ----------------------------------------------------------------------------------

_COMMENT_IDS = re.compile(
    r"#\s*(?:id:\s*)?((?:contract|registry|document|decide|signal|supplement|http)-[a-z0-9-]+)"
)


def case_ids() -> set[str]:
    ids = {
        param.id
        for table in (CONTRACT_CASES, REGISTRY_REFUSED, REGISTRY_ACCEPTED, DOCUMENT_CASES)
        for param in table
    }
    for module in sorted(Path(__file__).parent.glob("test_*.py")):
        source = module.read_text(encoding="utf-8")
        ids |= set(re.findall(r'\bid="([a-z0-9-]+)"', source))
        ids |= set(_COMMENT_IDS.findall(source))
    return ids


def test_the_readme_table_lists_every_case() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("### Bad inputs", 1)[1].split("\n## ", 1)[0]
    rows = set(re.findall(r"^\| `([a-z0-9-]+)` \|", section, re.MULTILINE))

    assert rows == case_ids()
    assert len(rows) >= 80
