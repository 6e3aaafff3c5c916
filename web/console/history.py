"""The registration page's history in Vietnamese: each event as the reviewer reads it.

Built from the decoded events alone, like the auditors' timeline
(:mod:`projections.audit.timeline`), and holding no more than it does: no names, codes or
contact details, and of a note typed by someone only that there was one. A reviewer's reason is
given by its label; the rest of what an event records is told in words.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from activities.notifications.kinds import Channel, NotificationKind
from domain.registration import ActorKind, Registration
from web.console.routes import vietnam_deadline
from web.console.warnings import FIELDS

E = Registration

DOCUMENTS = {"portrait": "ảnh chân dung", "birth_certificate": "giấy khai sinh"}
REASONS = {
    "PHOTO_UNCLEAR": "ảnh chân dung không rõ",
    "BIRTH_CERTIFICATE_MISMATCH": "giấy khai sinh không khớp với tờ khai",
    "RELATIONSHIP_NOT_PROVEN": "chưa chứng minh được quan hệ giám hộ",
    "DOCUMENTS_INSUFFICIENT": "giấy tờ không đủ",
    "OTHER": "lý do khác",
}
"""The reviewer's reasons, and the system's own ones of an automatic rejection."""
NOTICES = {
    NotificationKind.RECEIVED: "tiếp nhận hồ sơ",
    NotificationKind.SUPPLEMENT_REQUESTED: "yêu cầu bổ sung",
    NotificationKind.APPROVED: "phê duyệt",
    NotificationKind.REJECTED: "từ chối",
    NotificationKind.AUTO_REJECTED: "từ chối tự động",
    NotificationKind.EXPIRED: "hết hạn",
    NotificationKind.WITHDRAWN: "rút hồ sơ",
}
CHANNELS = {Channel.EMAIL: "email", Channel.SMS: "SMS"}
OUTCOMES = {
    "approve": "phê duyệt",
    "reject": "từ chối",
    "request_supplement": "yêu cầu bổ sung",
    "confirm_rejection": "xác nhận từ chối",
    "decline_rejection": "không đồng ý từ chối",
}
ACTORS = {
    ActorKind.UPSTREAM: "Hệ thống VssID",
    ActorKind.REVIEWER: "Cán bộ",
    ActorKind.GUARDIAN: "Người giám hộ",
    ActorKind.SYSTEM: "Hệ thống",
    ActorKind.OPERATOR: "Cán bộ bảo vệ dữ liệu",
}


@dataclass(frozen=True, slots=True)
class HistoryRow:
    at: datetime
    event: str
    """What happened, in a few words."""
    actor: str
    detail: str


def _list(names: Sequence[str], labels: dict[str, str]) -> str:
    return ", ".join(labels.get(name, name) for name in names)


def _noted(note: str | None) -> str:
    return " (có ghi chú)" if note else ""


def _reason(code: str) -> str:
    return REASONS.get(code, code)


def _notice(e: Any) -> str:
    return f"thông báo {NOTICES.get(e.kind, e.kind)} qua {CHANNELS.get(e.channel, e.channel)}"


def _claimed(e: Any) -> str:
    if e.takeover and e.previous_holder:
        return f"tiếp nhận thay cán bộ {e.previous_holder}"
    return "nhận xử lý hồ sơ"


_ROWS: dict[type[Any], tuple[str, Callable[[Any], str]]] = {
    E.Submitted: ("Tiếp nhận hồ sơ", lambda e: f"gửi đến cơ quan BHXH {e.office_code}"),
    E.IdentityVerified: (
        "Kiểm tra danh tính",
        lambda e: (
            "trẻ và người giám hộ có trong cơ sở dữ liệu"
            + (f"; {len(e.warnings)} cảnh báo" if e.warnings else "")
        ),
    ),
    E.AutoRejected: (
        "Từ chối tự động",
        lambda e: (
            _reason(e.reason_code) + (f" ({FIELDS.get(e.field, e.field)})" if e.field else "")
        ),
    ),
    E.DocumentsStored: (
        "Lưu giấy tờ",
        lambda e: (
            _list(sorted(e.documents), DOCUMENTS)
            + (f"; {len(e.warnings)} cảnh báo" if e.warnings else "")
        ),
    ),
    E.ReviewRequested: (
        "Chờ duyệt",
        lambda e: (
            f"lượt duyệt {e.round}; hạn duyệt {vietnam_deadline(e.deadline)}, "
            f"hết hạn hồ sơ {vietnam_deadline(e.expires_at)}"
        ),
    ),
    E.ReviewOverdue: (
        "Quá hạn duyệt",
        lambda e: f"chuyển lên: {', '.join(e.escalated_to) or 'không có ai'}",
    ),
    E.SupplementRequested: (
        "Yêu cầu bổ sung",
        lambda e: (
            f"{_list(e.documents, DOCUMENTS)}; hạn {vietnam_deadline(e.due)}" + _noted(e.note)
        ),
    ),
    E.SupplementProvided: ("Đã bổ sung", lambda e: _list(sorted(e.documents), DOCUMENTS)),
    E.Approved: ("Phê duyệt", lambda e: "hồ sơ được phê duyệt" + _noted(e.note)),
    E.Rejected: ("Từ chối", lambda e: _reason(e.reason_code) + _noted(e.note)),
    E.RejectionProposed: (
        "Đề xuất từ chối",
        lambda e: f"{_reason(e.reason_code)}; chờ cán bộ thứ hai xác nhận" + _noted(e.note),
    ),
    E.RejectionDeclined: (
        "Không đồng ý từ chối",
        lambda e: "hồ sơ trở lại chờ duyệt" + _noted(e.note),
    ),
    E.DecisionRefused: (
        "Quyết định không được chấp nhận",
        lambda e: f"{OUTCOMES.get(e.outcome, e.outcome)}: không hợp lệ ở bước này",
    ),
    E.Claimed: ("Nhận xử lý", _claimed),
    E.Released: ("Trả lại", lambda e: "hồ sơ không còn ai nhận xử lý"),
    E.Withdrawn: ("Rút hồ sơ", lambda e: "người giám hộ rút hồ sơ" + _noted(e.reason)),
    E.Expired: (
        "Hết hạn",
        lambda e: (
            "hết hạn khi chờ duyệt"
            if e.stage == "review"
            else "hết hạn khi chờ người giám hộ bổ sung"
        ),
    ),
    E.ChildAccountActivated: ("Kích hoạt tài khoản", lambda e: "tài khoản của trẻ đã kích hoạt"),
    E.NotificationPrepared: ("Soạn thông báo", lambda e: _notice(e)),
    E.GuardianNotified: ("Đã gửi thông báo", lambda e: _notice(e)),
    E.NotificationFailed: (
        "Gửi thông báo không thành công",
        lambda e: _notice(e) + ("; không gửi lại" if e.permanent else "; sẽ gửi lại"),
    ),
    E.NotificationSkipped: ("Bỏ qua thông báo", lambda e: _notice(e)),
    E.DeclarationViewed: (
        "Mở tờ khai",
        lambda e: "người giám hộ mở tờ khai qua đường liên kết",
    ),
    E.Erased: ("Xoá dữ liệu cá nhân", lambda e: "khoá dữ liệu đã bị xoá" + _noted(e.reason)),
}


def _actor(event: Registration.Event) -> str:
    try:
        kind = ACTORS[ActorKind(event.actor_kind)]
    except ValueError:
        kind = event.actor_kind
    if event.actor_kind == ActorKind.REVIEWER:
        return f"{kind} {event.actor_id}"
    return kind


def history(events: Sequence[Registration.Event]) -> list[HistoryRow]:
    """The events in order, each told in Vietnamese (an event of a kind this page does not know
    is shown by its name, never dropped)."""
    rows = []
    for event in events:
        label, detail = _ROWS.get(type(event), (type(event).__name__, lambda e: ""))
        rows.append(HistoryRow(event.timestamp, label, _actor(event), detail(event)))
    return rows
