"""The reviewer console in a real browser (Debian's chromium, driven by Playwright) on a real
``childreg dev``: a reviewer signs in, finds the waiting registration in the queue, opens it, sees
both images and rejects it with a reason; a reviewer of another office gets 404.

The screenshots of the queue and the registration page are written to ``CONSOLE_SCREENSHOTS``
(``make screenshots`` sets it to ``docs/console``), else to the test's temporary directory.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shutil
import subprocess
import tempfile
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.builders import a_request
from tests.builders.images import sharp_jpeg
from tests.e2e.test_web_e2e import put_document, web_url
from tests.integration.test_dev_stack import CHILDREG, Dev, dev_ports, start_dev
from workers.run.demo import DEMO_REGISTRY
from workflows.registration import TASK_QUEUE

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "mật khẩu của Thu Hà 2026"
REVIEWER = "rv-79001-01"
OTHER_OFFICE_REVIEWER = "rv-01001-01"
REQUEST_ID = "console-0001"
FOUR_EYES_OFFICE = "48001"
PROPOSER = "rv-48001-01"
SECOND_REVIEWER = "rv-48001-02"
FOUR_EYES_REQUEST_ID = "console-0002"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="make test installs chromium (apt-get install chromium)"
)


@pytest.fixture(scope="module")
def dev() -> Iterator[Dev]:
    data_dir = Path(tempfile.mkdtemp(prefix="childreg-console-", dir="/tmp"))
    running = start_dev(data_dir, dev_ports(), demo=False)
    try:  # a failure while setting up must not leave the stack running
        env = running.env()
        subprocess.run(
            [CHILDREG, "registry", "load", str(DEMO_REGISTRY)],
            env=env,
            check=True,
            capture_output=True,
        )
        four_eyes = data_dir / "four-eyes"  # the demo's Đà Nẵng office, with four eyes
        four_eyes.mkdir()
        offices = (DEMO_REGISTRY / "offices.csv").read_text(encoding="utf-8").splitlines()
        (four_eyes / "offices.csv").write_text(
            f"{offices[0]},four_eyes\n"
            + "".join(f"{row},true\n" for row in offices[1:] if row.startswith(FOUR_EYES_OFFICE)),
            encoding="utf-8",
        )
        subprocess.run(
            [CHILDREG, "registry", "load", str(four_eyes)], env=env, check=True, capture_output=True
        )
        for reviewer_id in (REVIEWER, OTHER_OFFICE_REVIEWER, PROPOSER, SECOND_REVIEWER):
            subprocess.run(
                [CHILDREG, "reviewers", "set-password", reviewer_id, "--password-stdin"],
                input=PASSWORD + "\n",
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
        yield running
    finally:
        if running.process.poll() is None:
            running.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


def screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CONSOLE_SCREENSHOTS", str(tmp_path)))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def in_a_thread(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coroutine`` on an event loop of its own (Playwright's sync API holds this thread's)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def waiting_for_review(dev: Dev, request: dict[str, Any]) -> Any:
    async def run() -> Any:
        client = await dev.client()
        handle = await client.start_workflow(
            "ChildAccountRegistration",
            request,
            id=f"registration-{request['request_id']}",
            task_queue=TASK_QUEUE,
        )
        for _ in range(300):
            status = await handle.query("status")
            if status["state"] == "awaiting_review":
                return handle
            assert status["state"] not in ("auto_rejected", "withdrawn"), status
            await asyncio.sleep(0.2)
        raise AssertionError("the registration never reached awaiting_review")

    return in_a_thread(run())


def result_of(dev: Dev, request_id: str) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        client = await dev.client()
        handle = client.get_workflow_handle(f"registration-{request_id}")
        result: dict[str, Any] = await asyncio.wait_for(handle.result(), 90)
        return result

    answer: dict[str, Any] = in_a_thread(run())
    return answer


def sign_in(page: Page, base: str, reviewer_id: str) -> None:
    page.goto(f"{base}/console/login")
    page.get_by_label("Mã cán bộ").fill(reviewer_id)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"{base}/console/queue")


def test_a_reviewer_signs_in_finds_opens_sees_and_rejects(
    dev: Dev, browser: Browser, tmp_path: Path
) -> None:
    request = a_request(
        request_id=REQUEST_ID,
        guardian__social_insurance_code="7900000001",
        child__social_insurance_code="7900000012",
        child__full_name="Nguyễn Ngọc Hân",
        child__date_of_birth="2026-05-10",
        documents__portrait=put_document(dev, sharp_jpeg(1)),
        documents__birth_certificate=put_document(dev, sharp_jpeg(2)),
    )
    waiting_for_review(dev, request)
    base = web_url(dev)
    folder = screenshots(tmp_path)
    context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda message: errors.append(message.text) if "Refused" in message.text else None,
    )
    failed: list[str] = []
    page.on(
        "response",
        lambda response: (
            failed.append(response.url)
            if response.status >= 400 and not response.url.endswith("/favicon.ico")
            else None
        ),
    )

    sign_in(page, base, REVIEWER)
    row = page.get_by_role("link", name=REQUEST_ID)
    for _ in range(100):  # the queue's read model follows the event store
        if row.count():
            break
        page.wait_for_timeout(200)
        page.reload()
    page.screenshot(path=str(folder / "queue.png"), full_page=True)
    row.click()
    page.wait_for_url(f"{base}/console/registrations/{REQUEST_ID}")
    page.wait_for_load_state("networkidle")
    widths = page.eval_on_selector_all(
        ".documents img", "images => images.map(i => i.naturalWidth)"
    )
    page.screenshot(path=str(folder / "registration.png"), full_page=True)
    page.get_by_role("button", name="Nhận xử lý").click()  # the claim before deciding
    page.wait_for_url(f"{base}/console/registrations/{REQUEST_ID}?done=claim")
    holder = page.locator(".claim .holder").inner_text()
    releasable = page.get_by_role("button", name="Trả lại").count()
    page.screenshot(path=str(folder / "claimed.png"), full_page=True)
    page.get_by_label("Lý do", exact=True).select_option("PHOTO_UNCLEAR")
    page.get_by_role("button", name="Từ chối", exact=True).click()
    page.wait_for_url(f"{base}/console/registrations/{REQUEST_ID}?done=1")
    result = result_of(dev, REQUEST_ID)

    assert widths == [800, 800]  # both documents decoded in the browser
    assert holder.startswith("Đang được xử lý bởi ")  # the reviewer's name from the registry
    assert holder.endswith("(bạn)")
    assert REVIEWER not in holder
    assert releasable == 1
    assert "Đã ghi nhận quyết định." in page.content()
    assert result["outcome"] == "rejected"
    assert result["reason_code"] == "PHOTO_UNCLEAR"
    assert errors == []  # nothing refused by the Content-Security-Policy
    assert failed == []
    context.close()


def test_a_second_reviewer_confirms_a_rejection_in_a_four_eyes_office(
    dev: Dev, browser: Browser, tmp_path: Path
) -> None:
    request = a_request(
        request_id=FOUR_EYES_REQUEST_ID,
        office_code=FOUR_EYES_OFFICE,
        guardian__social_insurance_code="4800000003",
        guardian__full_name="Trịnh Văn Long",
        guardian__phone="0905111222",
        guardian__email="long.trinh@example.vn",
        child__social_insurance_code="4800000031",
        child__full_name="Trịnh Gia Hưng",
        child__date_of_birth="2022-09-09",
        documents__portrait=put_document(dev, sharp_jpeg(3)),
        documents__birth_certificate=put_document(dev, sharp_jpeg(4)),
    )
    waiting_for_review(dev, request)
    base = web_url(dev)
    page_url = f"{base}/console/registrations/{FOUR_EYES_REQUEST_ID}"
    folder = screenshots(tmp_path)

    proposer = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    page = proposer.new_page()
    sign_in(page, base, PROPOSER)
    page.goto(page_url)
    page.get_by_label("Lý do", exact=True).select_option("RELATIONSHIP_NOT_PROVEN")
    page.get_by_role("button", name="Từ chối", exact=True).click()
    page.wait_for_url(f"{page_url}?done=1")
    proposer_sees = page.content()
    proposer.close()

    second = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    page = second.new_page()
    sign_in(page, base, SECOND_REVIEWER)
    page.goto(page_url)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(folder / "four-eyes.png"), full_page=True)
    page.get_by_role("button", name="Xác nhận từ chối").click()
    page.wait_for_url(f"{page_url}?done=1")
    result = result_of(dev, FOUR_EYES_REQUEST_ID)
    second.close()

    assert "Đề xuất của bạn đang chờ một cán bộ thứ hai xác nhận." in proposer_sees
    assert "Xác nhận từ chối" not in proposer_sees
    assert result["outcome"] == "rejected"
    assert result["reason_code"] == "RELATIONSHIP_NOT_PROVEN"
    assert result["decided_by"] == SECOND_REVIEWER


def test_a_reviewer_of_another_office_gets_404(dev: Dev, browser: Browser) -> None:
    base = web_url(dev)
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, base, OTHER_OFFICE_REVIEWER)

    answer = page.goto(f"{base}/console/registrations/{REQUEST_ID}")
    document = page.goto(f"{base}/console/registrations/{REQUEST_ID}/documents/portrait")

    assert answer is not None
    assert answer.status == 404
    assert document is not None
    assert document.status == 404
    assert "Không tìm thấy hồ sơ" in page.content() or document.status == 404
    context.close()


def test_the_queue_needs_a_signed_in_reviewer(dev: Dev, browser: Browser) -> None:
    context = browser.new_context()
    page = context.new_page()

    page.goto(f"{web_url(dev)}/console/queue")

    assert page.url.endswith("/console/login")
    context.close()


def test_the_banner_says_where_the_console_is_and_how_to_sign_in(dev: Dev) -> None:
    assert f"Console       {web_url(dev)}/console/login" in dev.output
    assert "password: childreg reviewers set-password rv-79001-01" in " ".join(dev.output.split())
