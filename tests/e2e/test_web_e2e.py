"""The web tier on a real ``childreg dev``: the guardian's link from a real SMS, and an upstream that
has no access to the machine's disk registering a child with HTTP plus Temporal."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pypdf
import pytest

from domain.registration import registration_id_for
from tests.builders import a_request
from tests.builders.images import sharp_jpeg
from tests.integration.test_dev_stack import CHILDREG, Dev, dev_ports, free_port, start_dev
from workers.run.demo import DEMO_REGISTRY
from workflows.registration import TASK_QUEUE

CHILD = "Nguyễn Ngọc Hân"


@pytest.fixture(scope="module")
def dev() -> Iterator[Dev]:
    data_dir = Path(tempfile.mkdtemp(prefix="childreg-web-", dir="/tmp"))
    ports = dev_ports()
    running = start_dev(data_dir, ports, demo=False)
    try:  # a failure while setting up must not leave the stack running
        subprocess.run(
            [CHILDREG, "registry", "load", str(DEMO_REGISTRY)],
            env=running.env(),
            check=True,
            capture_output=True,
        )
        yield running
    finally:
        if running.process.poll() is None:
            running.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def web_url(dev: Dev) -> str:
    return f"http://127.0.0.1:{dev.ports['web-port']}"


def put_document(dev: Dev, data: bytes) -> str:
    token = (dev.data_dir / "keys" / "intake.token").read_text().strip()
    response = httpx.post(
        f"{web_url(dev)}/v1/documents",
        content=data,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "image/jpeg"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    reference: str = response.json()["reference"]
    return reference


def register_and_approve(dev: Dev, request: dict[str, Any]) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        client = await dev.client()
        workflow_id = f"registration-{request['request_id']}"
        handle = await client.start_workflow(
            "ChildAccountRegistration", request, id=workflow_id, task_queue=TASK_QUEUE
        )
        for _ in range(300):
            status = await handle.query("status")
            if status["state"] == "awaiting_review":
                break
            assert status["state"] not in ("auto_rejected", "withdrawn"), status
            await asyncio.sleep(0.2)
        await handle.signal("approve", {"decision_id": "web-d1", "reviewer_id": "rv-79001-01"})
        result: dict[str, Any] = await asyncio.wait_for(handle.result(), 90)
        return result

    return asyncio.run(run())


def sms_link(dev: Dev, request_id: str, kind: str) -> str:
    path = dev.data_dir / "sms" / f"childreg.{registration_id_for(request_id)}.{kind}.sms.json"
    for _ in range(300):
        if path.exists():
            break
        asyncio.run(asyncio.sleep(0.2))
    text = json.loads(path.read_text())["text"]
    found = re.search(r"https?://\S+/declarations/[\w-]+", text)
    assert found, text
    return found.group(0)


def test_the_banner_lists_the_web_tier(dev: Dev) -> None:
    assert f"Web           {web_url(dev)}" in dev.output


def test_an_upstream_registers_a_child_and_the_guardian_opens_the_link(dev: Dev) -> None:
    portrait = put_document(dev, sharp_jpeg(1))
    certificate = put_document(dev, sharp_jpeg(2))
    request = a_request(
        request_id="web-0001",
        guardian__social_insurance_code="7900000001",
        child__social_insurance_code="7900000012",
        child__full_name=CHILD,
        child__date_of_birth="2026-05-10",
        documents__portrait=portrait,
        documents__birth_certificate=certificate,
    )

    result = register_and_approve(dev, request)
    link = sms_link(dev, "web-0001", "approved")
    assert link.startswith(f"http://localhost:{dev.ports['web-port']}/declarations/")
    with httpx.Client(timeout=30) as guardian:
        page = guardian.get(link)
        pdf = guardian.get(link + "/pdf")

    assert result["outcome"] == "approved"
    assert page.status_code == 200
    assert CHILD in page.text
    assert "tài khoản giao dịch điện tử của trẻ đã được kích hoạt" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert CHILD in text
    history = subprocess.run(
        [CHILDREG, "audit", "history", "web-0001", "--json"],
        env={**dev.env(), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    entries = [json.loads(line) for line in history.splitlines() if line.strip()]
    opened = [entry for entry in entries if entry["event"] == "DeclarationViewed"]
    assert [entry["summary"].split()[1] for entry in opened] == ["page", "pdf"]
    assert all(entry["actor_kind"] == "guardian" for entry in opened)
    assert "127.0.0.1" not in history


def test_readyz_answers_for_the_stack(dev: Dev) -> None:
    response = httpx.get(f"{web_url(dev)}/readyz", timeout=10)

    assert response.status_code == 200
    assert response.json()["checks"] == {"postgresql": "ok", "temporal": "ok"}


def test_childreg_web_runs_as_a_process_of_its_own_beside_the_stack(dev: Dev) -> None:
    port = free_port()
    process = subprocess.Popen(
        [CHILDREG, "web", "--port", str(port)],
        env={**dev.env(), "CHILDREG_LOG_FORMAT": "json"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        answer = None
        for _ in range(150):
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/readyz?probe=1", timeout=5)
                break
            except httpx.TransportError:
                asyncio.run(asyncio.sleep(0.2))
        assert answer is not None
        assert answer.status_code == 200
        assert (
            httpx.get(f"http://127.0.0.1:{port}/declarations/nothing", timeout=5).status_code == 404
        )
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("event") == "http.request"]
    assert {line["route"] for line in requests} >= {"/readyz", "/declarations/{token}"}
    assert "probe=1" not in output
    assert "nothing" not in output
    assert os.path.exists(dev.data_dir / "keys" / "intake.token")
