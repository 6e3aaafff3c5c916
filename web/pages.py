"""The HTML pages of the guardian's link, rendered from ``web/templates/`` with Jinja2.

One environment, built once per application, autoescaping every template (the names end in
``.html.j2``, which ``select_autoescape`` would not recognise) and refusing unknown variables.
"""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, StrictUndefined


@dataclass(frozen=True, slots=True)
class DeclarationPage:
    """What the declaration's page shows; nothing else of the registration reaches the page."""

    reference: str
    child_name: str
    guardian_name: str
    relationship: str
    office_name: str
    submitted_at: str
    """``25/11/2026 09:00``, Vietnam time."""
    status: str
    tone: str
    reason: str | None
    """The catalogue's Vietnamese text for a rejection, when there is one."""
    pdf_url: str
    link_expires_at: str


class Pages:
    def __init__(self) -> None:
        self._environment = Environment(
            loader=PackageLoader("web", "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def declaration(self, page: DeclarationPage) -> str:
        return self._render("declaration.html.j2", page=page)

    def invalid(self) -> str:
        """The one page for every link that is not valid, whatever the cause (no oracle)."""
        return self._render("invalid.html.j2")

    def console_not_found(self) -> str:
        """The console's one page for an unknown registration and another office's."""
        return self._render("console/not_found.html.j2", reviewer=None)

    def expired(self) -> str:
        return self._render("expired.html.j2")

    def erased(self) -> str:
        """The guardian's link of a registration whose personal data was erased (answered 410)."""
        return self._render("erased.html.j2")

    def too_many(self) -> str:
        return self._render("too_many.html.j2")

    def _render(self, name: str, **context: object) -> str:
        return self._environment.get_template(name).render(**context)
