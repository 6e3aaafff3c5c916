"""A registration's state as the guardian reads it on the declaration's page."""

from __future__ import annotations

from domain.lifecycle import State

STATUS_WORDS: dict[State, str] = {
    State.SUBMITTED: "Đã tiếp nhận, đang kiểm tra thông tin",
    State.IDENTITY_VERIFIED: "Đã tiếp nhận, đang kiểm tra giấy tờ",
    State.DOCUMENTS_STORED: "Đã tiếp nhận, đang chuyển cơ quan BHXH xét duyệt",
    State.AWAITING_REVIEW: "Đang chờ cơ quan BHXH xét duyệt",
    # A proposed rejection is the office's internal step: the guardian hears only of the outcome.
    State.REJECTION_PROPOSED: "Đang chờ cơ quan BHXH xét duyệt",
    State.SUPPLEMENT_REQUESTED: "Cần bổ sung giấy tờ",
    State.SUPPLEMENT_PROVIDED: "Đã bổ sung giấy tờ, đang chờ xét duyệt lại",
    State.APPROVED: "Đã được phê duyệt",
    State.ACCOUNT_ACTIVATED: "Đã được phê duyệt, tài khoản giao dịch điện tử của trẻ đã được kích hoạt",
    State.REJECTED: "Không được phê duyệt",
    State.AUTO_REJECTED: "Không được tiếp nhận",
    State.WITHDRAWN: "Đã rút tờ khai",
    State.EXPIRED: "Đã hết thời hạn xét duyệt",
}
"""One entry per state (a unit test checks none is missing)."""

TONES: dict[State, str] = {
    State.APPROVED: "good",
    State.ACCOUNT_ACTIVATED: "good",
    State.REJECTED: "bad",
    State.AUTO_REJECTED: "bad",
    State.WITHDRAWN: "ended",
    State.EXPIRED: "ended",
    State.SUPPLEMENT_REQUESTED: "action",
}
"""The colour of the status badge; ``pending`` when not listed."""


def status_words(state: State) -> str:
    return STATUS_WORDS[state]


def tone(state: State) -> str:
    return TONES.get(state, "pending")
