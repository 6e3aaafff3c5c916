import html
from pathlib import Path
from typing import Any

import pytest
from jinja2 import Environment, meta

from activities.notifications.activities import message_context
from activities.notifications.kinds import Channel, NotificationKind
from activities.notifications.render import (
    MessageContext,
    Renderer,
    read_versions,
    source_digest,
    template_id,
    template_sources,
)
from activities.notifications.sms import GSM7_BASIC
from domain.reasons import CATALOGUE
from tests.builders.notifications import REFERENCE, an_input, links

TEMPLATES = Path(__file__).parents[3] / "activities" / "notifications" / "templates"


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


def context(kind: NotificationKind, **fields: Any) -> MessageContext:
    return message_context(an_input(kind, **fields), links())


@pytest.mark.parametrize("reason_code", sorted(CATALOGUE))
@pytest.mark.parametrize("kind", list(NotificationKind))
def test_every_kind_renders_for_every_reason_code(
    renderer: Renderer, kind: NotificationKind, reason_code: str
) -> None:
    ctx = context(kind, reason_code=reason_code, note="Ghi chú của cán bộ")

    email = renderer.email(ctx)
    sms = renderer.sms(ctx)

    assert REFERENCE in email.subject
    assert "Nguyễn Văn An" in email.text
    assert "Nguyễn Văn An" in email.html
    assert REFERENCE in sms.text
    assert set(sms.text) <= GSM7_BASIC
    if kind in (NotificationKind.REJECTED, NotificationKind.AUTO_REJECTED):
        reason = CATALOGUE[reason_code].vi
        assert reason in email.text
        assert html.escape(reason, quote=False) in email.html


def test_every_template_names_only_variables_the_context_defines() -> None:
    known = set(MessageContext.model_fields) | {"subject"}
    environment = Environment(autoescape=True)

    for path in TEMPLATES.rglob("*.j2"):
        names = meta.find_undeclared_variables(environment.parse(path.read_text("utf-8")))
        assert names <= known, f"{path.name} uses {sorted(names - known)}"


def test_the_html_part_escapes_what_people_typed(renderer: Renderer) -> None:
    ctx = context(
        NotificationKind.REJECTED, reason_code="OTHER", note='<script>alert("x")</script>'
    )

    email = renderer.email(ctx)

    assert "<script>" not in email.html
    assert "&lt;script&gt;" in email.html
    assert '<script>alert("x")</script>' in email.text


def test_the_subject_is_one_line_of_vietnamese_with_diacritics(renderer: Renderer) -> None:
    email = renderer.email(context(NotificationKind.RECEIVED))

    assert email.subject == (
        "Đã tiếp nhận tờ khai đăng ký tài khoản giao dịch điện tử cho con - DK-1A2B3C4D"
    )


def test_the_supplement_request_lists_the_documents_and_the_due_date(renderer: Renderer) -> None:
    email = renderer.email(context(NotificationKind.SUPPLEMENT_REQUESTED))

    assert "- Ảnh giấy khai sinh của trẻ" in email.text
    assert "<li>Ảnh giấy khai sinh của trẻ</li>" in email.html
    assert "02/12/2026" in email.text


def test_the_approval_tells_the_child_account(renderer: Renderer) -> None:
    email = renderer.email(context(NotificationKind.APPROVED))
    sms = renderer.sms(context(NotificationKind.APPROVED))

    assert "Mã tài khoản của trẻ: 7912345678" in email.text
    assert "ma tai khoan 7912345678" in sms.text


def test_the_same_context_renders_the_same_bytes(renderer: Renderer) -> None:
    first = renderer.email(context(NotificationKind.RECEIVED))
    again = Renderer().email(context(NotificationKind.RECEIVED))

    assert first.sha256 == again.sha256


def test_every_template_has_a_version_pinned_to_its_text() -> None:
    versions = read_versions()

    for channel in Channel:
        for kind in NotificationKind:
            name = template_id(channel, kind)
            assert name in versions, f"{name} has no line in templates/versions.txt"
            assert versions[name].sha256 == source_digest(name), (
                f"{name} changed: bump its version in templates/versions.txt and set its "
                f"sha256 to {source_digest(name)}"
            )


def test_every_template_file_belongs_to_a_template_id() -> None:
    used = {
        source
        for channel in Channel
        for kind in NotificationKind
        for source in template_sources(template_id(channel, kind))
    }

    on_disk = {str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.j2")}

    assert on_disk == used
