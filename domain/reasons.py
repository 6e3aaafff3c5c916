"""The one catalogue of reason codes, with the Vietnamese text a guardian reads and the English
text operators read in logs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ReasonKind(StrEnum):
    AUTOMATIC = "automatic"
    """Found by the system before any reviewer saw the registration."""
    REVIEWER = "reviewer"
    """Given by a reviewer when rejecting."""


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    kind: ReasonKind
    vi: str
    """What the guardian reads: plain Vietnamese, with what to do next."""
    en: str
    """What operators read in logs and tools."""
    note_required: bool = False


_A = ReasonKind.AUTOMATIC
_R = ReasonKind.REVIEWER

CATALOGUE: dict[str, Reason] = {
    reason.code: reason
    for reason in (
        Reason(
            "INVALID_REQUEST",
            _A,
            "Thông tin khai báo chưa hợp lệ. Vui lòng kiểm tra lại các trường đã nhập và gửi lại tờ khai.",
            "the request has an invalid field",
        ),
        Reason(
            "COMMITMENT_NOT_ACCEPTED",
            _A,
            "Tờ khai chưa có cam kết của người khai. Vui lòng đọc và đồng ý với lời cam kết rồi gửi lại.",
            "the guardian did not accept the commitment",
        ),
        Reason(
            "CHILD_NOT_FOUND",
            _A,
            "Không tìm thấy mã số BHXH hoặc số định danh của trẻ trong cơ sở dữ liệu. "
            "Vui lòng kiểm tra lại mã số trên thẻ BHYT của trẻ.",
            "the child is not in the registry",
        ),
        Reason(
            "CHILD_DETAILS_MISMATCH",
            _A,
            "Họ tên hoặc ngày sinh của trẻ không khớp với dữ liệu của cơ quan BHXH. "
            "Vui lòng khai đúng như trên giấy khai sinh hoặc liên hệ cơ quan BHXH để điều chỉnh.",
            "the child's name or date of birth differs from the registry",
        ),
        Reason(
            "CHILD_NOT_MINOR",
            _A,
            "Trẻ đã đủ 18 tuổi nên không thuộc diện đăng ký tài khoản cho con. "
            "Người từ đủ 18 tuổi tự đăng ký tài khoản bằng căn cước công dân.",
            "the child is 18 or older",
        ),
        Reason(
            "GUARDIAN_NOT_FOUND",
            _A,
            "Không tìm thấy thông tin của cha, mẹ hoặc người giám hộ trong cơ sở dữ liệu của cơ quan BHXH.",
            "the guardian is not in the registry",
        ),
        Reason(
            "GUARDIAN_DETAILS_MISMATCH",
            _A,
            "Thông tin của cha, mẹ hoặc người giám hộ không khớp với tài khoản đã được duyệt. "
            "Vui lòng kiểm tra lại họ tên.",
            "the guardian's details differ from the registry",
        ),
        Reason(
            "GUARDIAN_ACCOUNT_INACTIVE",
            _A,
            "Tài khoản VssID của cha, mẹ hoặc người giám hộ chưa được duyệt hoặc đang bị khóa. "
            "Vui lòng liên hệ cơ quan BHXH nơi đăng ký tài khoản.",
            "the guardian has no active account",
        ),
        Reason(
            "ALREADY_REGISTERED",
            _A,
            "Trẻ đã có tài khoản giao dịch điện tử. Vui lòng đăng nhập tài khoản của trẻ để sử dụng.",
            "the child already has an active account",
        ),
        Reason(
            "REGISTRATION_IN_PROGRESS",
            _A,
            "Trẻ đang có một tờ khai đăng ký khác chờ xử lý. Vui lòng chờ kết quả của tờ khai đó.",
            "another registration for the child is open",
        ),
        Reason(
            "OFFICE_UNKNOWN",
            _A,
            "Cơ quan BHXH tiếp nhận đã chọn không tồn tại hoặc đã ngừng tiếp nhận. "
            "Vui lòng chọn lại cơ quan BHXH tiếp nhận.",
            "the office does not exist or is inactive",
        ),
        Reason(
            "DOCUMENT_MISSING",
            _A,
            "Thiếu ảnh chân dung của trẻ hoặc ảnh giấy khai sinh. Vui lòng tải đủ hồ sơ và gửi lại.",
            "a required document was not received",
        ),
        Reason(
            "DOCUMENT_UNREADABLE",
            _A,
            "Ảnh hồ sơ bị mờ, quá nhỏ hoặc không đọc được. Vui lòng chụp lại rõ nét và gửi lại.",
            "a document is not a readable image",
        ),
        Reason(
            "DOCUMENT_TOO_LARGE",
            _A,
            "Ảnh hồ sơ vượt quá dung lượng cho phép (10 MB). Vui lòng chụp lại với kích thước nhỏ hơn.",
            "a document is larger than allowed",
        ),
        Reason(
            "CARD_MISMATCH",
            _A,
            "Thông tin đọc từ mã QR trên thẻ BHYT không khớp với mã số hoặc họ tên đã khai. "
            "Vui lòng quét lại mã QR hoặc nhập thông tin bằng tay.",
            "the card's QR code disagrees with the declared code or name",
        ),
        Reason(
            "INPUT_NOT_ENCRYPTED",
            _A,
            "Tờ khai được gửi đến qua một kênh không được mã hóa nên không được tiếp nhận. "
            "Vui lòng gửi lại tờ khai qua ứng dụng VssID hoặc Cổng Dịch vụ công.",
            "the workflow input did not come through the payload codec (not encrypted)",
        ),
        Reason(
            "DOCUMENTS_INSUFFICIENT",
            _R,
            "Hồ sơ chưa đủ để xét duyệt. Vui lòng bổ sung giấy tờ theo hướng dẫn và gửi lại tờ khai.",
            "the documents are insufficient",
        ),
        Reason(
            "BIRTH_CERTIFICATE_MISMATCH",
            _R,
            "Thông tin trên giấy khai sinh không khớp với tờ khai. "
            "Vui lòng kiểm tra lại và gửi ảnh giấy khai sinh đúng của trẻ.",
            "the birth certificate does not match the declaration",
        ),
        Reason(
            "RELATIONSHIP_NOT_PROVEN",
            _R,
            "Hồ sơ chưa chứng minh được quan hệ cha, mẹ hoặc người giám hộ với trẻ. "
            "Vui lòng bổ sung giấy tờ chứng minh quan hệ.",
            "the relationship to the child is not proven",
        ),
        Reason(
            "PHOTO_UNCLEAR",
            _R,
            "Ảnh chân dung của trẻ không rõ mặt. Vui lòng chụp lại ảnh chân dung rõ nét, nhìn thẳng.",
            "the portrait does not show the child clearly",
        ),
        Reason(
            "OTHER",
            _R,
            "Tờ khai chưa được duyệt. Vui lòng xem ghi chú của cán bộ BHXH và liên hệ cơ quan BHXH "
            "tiếp nhận nếu cần hỗ trợ.",
            "other (see the reviewer's note)",
            note_required=True,
        ),
    )
}

AUTOMATIC_CODES = frozenset(code for code, r in CATALOGUE.items() if r.kind is ReasonKind.AUTOMATIC)
REVIEWER_CODES = frozenset(code for code, r in CATALOGUE.items() if r.kind is ReasonKind.REVIEWER)


def reason(code: str) -> Reason:
    """The catalogue entry for ``code``; ``KeyError`` names the code when it is unknown."""
    try:
        return CATALOGUE[code]
    except KeyError:
        raise KeyError(f"unknown reason code {code!r}") from None
