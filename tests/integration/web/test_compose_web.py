"""The production shape runs the web tier: a service of its own, built from the same image."""

from __future__ import annotations

from tests.unit.test_compose import ROOT, compose, environment_of


def test_compose_runs_the_web_tier_on_every_interface_with_the_intake_tokens() -> None:
    web = compose()["services"]["web"]

    assert web["command"] == ["childreg", "web", "--host", "0.0.0.0", "--port", "8080"]  # noqa: S104
    assert "8080:8080" in web["ports"]
    assert "CHILDREG_INTAKE_TOKENS" in environment_of(web)
    assert "/readyz" in " ".join(web["healthcheck"]["test"])


def test_the_image_exposes_the_web_port() -> None:
    assert "EXPOSE 8080" in (ROOT / "Dockerfile").read_text()
