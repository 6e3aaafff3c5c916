"""Rendering the guardian's messages from the Jinja2 templates under ``templates/``.

Each message has a template id (``email/<kind>``, ``sms/<kind>``) and a version, listed in
``templates/versions.txt`` with the SHA-256 of the template's sources: a unit test fails when a
template's text changes without its version being bumped, so (id, version) always names one text.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from pydantic import BaseModel, ConfigDict

from activities.notifications.journal import sha256_hex
from activities.notifications.kinds import Channel, NotificationKind
from activities.notifications.sms import to_gsm7
from domain.contract import VIETNAM

_PACKAGE = "activities.notifications"
VERSIONS_FILE = "versions.txt"

DOCUMENT_LABELS = {
    "portrait": "Ảnh chân dung của trẻ",
    "birth_certificate": "Ảnh giấy khai sinh của trẻ",
}
"""What the guardian reads for a document name; other names are shown with spaces for _."""


def document_label(name: str) -> str:
    return DOCUMENT_LABELS.get(name, name.replace("_", " "))


def vn_datetime(moment: datetime) -> str:
    """``25/11/2026 09:00``, in Vietnam time."""
    return moment.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")


def vn_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


class MessageContext(BaseModel):
    """Every variable a template may use; each kind uses some of them. No other names exist
    (StrictUndefined), so a template that names a missing variable fails its test."""

    model_config = ConfigDict(frozen=True)

    kind: NotificationKind
    reference: str
    guardian_name: str
    child_name: str
    office_name: str
    submitted_at: str
    link: str
    link_expires_at: str
    """``25/12/2026 09:00``, Vietnam time."""
    reason_code: str | None = None
    reason: str | None = None
    """The catalogue's Vietnamese text (rejected, auto-rejected)."""
    note: str | None = None
    """The reviewer's note, when there is one."""
    documents: tuple[str, ...] = ()
    """The documents to supply, as the guardian reads them."""
    due_date: str | None = None
    child_account_id: str | None = None
    attached: bool = False
    """The declaration is attached to this email."""


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    template_id: str
    template_version: int
    subject: str
    text: str
    html: str

    @property
    def sha256(self) -> str:
        """What the journal records: SHA-256 of subject, text and HTML, joined by a blank line."""
        return sha256_hex(f"{self.subject}\n\n{self.text}\n\n{self.html}")


@dataclass(frozen=True, slots=True)
class RenderedSms:
    template_id: str
    template_version: int
    text: str
    """Already GSM-7 (Vietnamese without diacritics)."""

    @property
    def sha256(self) -> str:
        return sha256_hex(self.text)


def template_id(channel: Channel, kind: NotificationKind) -> str:
    return f"{channel}/{kind}"


def template_sources(template: str) -> list[str]:
    """The files whose text makes up a template id, layouts included."""
    channel, _, kind = template.partition("/")
    if channel == Channel.EMAIL:
        return [
            "email/_layout.txt.j2",
            "email/_layout.html.j2",
            f"email/{kind}.txt.j2",
            f"email/{kind}.html.j2",
        ]
    return [f"sms/{kind}.txt.j2"]


def _templates() -> resources.abc.Traversable:
    return resources.files(_PACKAGE) / "templates"


def source_digest(template: str) -> str:
    digest = hashlib.sha256()
    for name in template_sources(template):
        digest.update(name.encode() + b"\0" + (_templates() / name).read_bytes() + b"\0")
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class VersionEntry:
    template_id: str
    version: int
    sha256: str


def read_versions() -> dict[str, VersionEntry]:
    entries = {}
    for line in (_templates() / VERSIONS_FILE).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, version, digest = line.split()
        entries[name] = VersionEntry(name, int(version), digest)
    return entries


_BLANK_LINES = re.compile(r"\n{3,}")


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)) + "\n"


class Renderer:
    """One Jinja2 environment for the process: HTML autoescaped, every variable required."""

    def __init__(self) -> None:
        self._env = Environment(
            loader=PackageLoader(_PACKAGE, "templates"),
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        self._versions = read_versions()

    def version(self, template: str) -> int:
        try:
            return self._versions[template].version
        except KeyError:
            raise KeyError(f"template {template!r} has no version in {VERSIONS_FILE}") from None

    def email(self, context: MessageContext) -> RenderedEmail:
        name = template_id(Channel.EMAIL, context.kind)
        variables = context.model_dump()
        text_template = self._env.get_template(f"{name}.txt.j2")
        subject_block = text_template.blocks["subject"](text_template.new_context(variables))
        subject = " ".join("".join(subject_block).split())
        text = _tidy(text_template.render(variables))
        html = self._env.get_template(f"{name}.html.j2").render(variables, subject=subject)
        return RenderedEmail(name, self.version(name), subject, text, html)

    def sms(self, context: MessageContext) -> RenderedSms:
        name = template_id(Channel.SMS, context.kind)
        rendered = self._env.get_template(f"{name}.txt.j2").render(context.model_dump())
        return RenderedSms(name, self.version(name), to_gsm7(" ".join(rendered.split())))
