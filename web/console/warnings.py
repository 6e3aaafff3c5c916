"""The reviewer's warnings in Vietnamese, keyed by the domain's warning code (not its English)."""

from __future__ import annotations

from domain.warnings import WarningCode, parse_warning

FIELDS = {
    "child.full_name": "Họ tên của trẻ",
    "guardian.full_name": "Họ tên người giám hộ",
    "documents.portrait": "Ảnh chân dung",
    "documents.birth_certificate": "Giấy khai sinh",
}

TEXTS: dict[WarningCode, str] = {
    WarningCode.NOT_ONE_HOUSEHOLD: "Người giám hộ và trẻ không cùng một hộ gia đình.",
    WarningCode.CARD_NOT_SCANNED: (
        "Không có mã QR thẻ BHYT: mã số BHXH của trẻ được nhập tay, không quét từ thẻ."
    ),
    WarningCode.CARD_NAME_ACCENTS_ONLY: (
        "Họ tên trên thẻ BHYT chỉ khớp với họ tên của trẻ khi bỏ dấu."
    ),
    WarningCode.NAME_ACCENTS_ONLY: "{field} chỉ khớp với cơ sở dữ liệu khi bỏ dấu.",
    WarningCode.DOCUMENT_SOFT: "{field}: ảnh hơi mờ, hãy kiểm tra xem có đọc rõ không.",
}


def in_vietnamese(recorded: str) -> str:
    """A recorded warning as the reviewer reads it; one of no known code, as it was recorded."""
    warning = parse_warning(recorded)
    if warning is None:
        return recorded
    return TEXTS[warning.code].format(field=FIELDS.get(warning.field, warning.field))
