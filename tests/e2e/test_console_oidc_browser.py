"""Signing in with the organisation's account in a real browser (Debian's chromium): the console
and a mock OIDC provider served by uvicorn on loopback; the button, the provider's redirect and the
callback under the console's Content-Security-Policy, ending on the office's queue."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.async_api import async_playwright

from tests.builders.registry import REVIEWER
from tests.fakes.oidc_provider import CLIENT_ID, CLIENT_SECRET, mock_provider, served
from tests.integration.web.console import console_web
from web.console.oidc import OidcConfig

CHROMIUM = "/usr/bin/chromium"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="make test installs chromium (apt-get install chromium)"
)


async def test_a_reviewer_signs_in_with_the_organisations_account_in_a_browser(
    tmp_path: Path,
) -> None:
    folder = Path(os.environ.get("CONSOLE_SCREENSHOTS", str(tmp_path)))
    async with mock_provider() as provider:
        provider.user = REVIEWER
        web = console_web(tmp_path, oidc=OidcConfig(provider.issuer, CLIENT_ID, CLIENT_SECRET))
        async with served(web.app) as url, async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=["--headless", "--no-sandbox", "--disable-gpu"],
            )
            try:
                page = await browser.new_page(locale="vi-VN")
                await page.goto(f"{url}/console/login")
                await page.screenshot(path=str(folder / "login.png"), full_page=True)

                await page.get_by_text("Đăng nhập bằng tài khoản tổ chức").click()
                await page.wait_for_url(f"{url}/console/queue")
                queue = await page.content()
            finally:
                await browser.close()

    assert provider.exchanges == [True]
    assert f"· {REVIEWER}</span>" in queue  # signed in: the header names the reviewer
