"""The demo ``make run`` plays on first start: four registrations from the demo registry, narrated.

One is approved by a reviewer, one rejected with a reason, one auto-rejected by the system's
checks and one left waiting in its office's queue. Everything goes through the public contract
(the workflow, its update and query) exactly as an upstream service and a reviewer would.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from io import BytesIO
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw
from rich.console import Console
from rich.panel import Panel
from temporalio.client import Client, WorkflowHandle

from activities.documents import DocumentStore
from domain.contract import VIETNAM, DecideUpdate, FinalOutcome, Outcome, RegistrationStatus
from workflows.registration import WORKFLOW_TYPE, ChildAccountRegistration, workflow_id_for

DEMO_REGISTRY = Path(str(files("workers.run") / "demo_registry"))
"""The synthetic demo registry (its cast in its README), shipped with the package."""


def demo_picture(seed: int, title: str) -> bytes:
    """A sharp synthetic 'photo' of a document: coloured blocks and lines of text."""
    rng = random.Random(seed)  # noqa: S311 - demo pictures, not secrets
    image = Image.new("RGB", (900, 640), (236, 231, 220))
    draw = ImageDraw.Draw(image)
    for _ in range(60):
        x, y = rng.randrange(900), rng.randrange(640)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.rectangle([x, y, x + rng.randrange(10, 120), y + rng.randrange(5, 40)], fill=colour)
    for top in range(0, 640, 18):
        draw.text(
            (20, top), f"{title} - CONG HOA XA HOI CHU NGHIA VIET NAM " * 2, fill=(20, 20, 20)
        )
    out = BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


@dataclass(frozen=True)
class Scene:
    title: str
    request_id: str
    guardian: dict[str, Any]
    child: dict[str, Any]
    office_code: str
    decision: DecideUpdate | None


def scenes(stamp: str) -> list[Scene]:
    """The four registrations, on the demo registry's cast (``demo_registry/README.md``)."""
    an = {
        "social_insurance_code": "7900000001",
        "full_name": "Nguyễn Văn An",
        "relationship": "father",
        "phone": "0912345678",
        "email": "an.nguyen@example.vn",
    }
    dung = {
        "social_insurance_code": "0100000001",
        "full_name": "Lê Văn Dũng",
        "relationship": "father",
        "phone": "0903123456",
        "email": "dung.le@example.vn",
    }
    huong = {
        "social_insurance_code": "0100000002",
        "full_name": "Phạm Thị Hương",
        "relationship": "mother",
        "phone": "0978123456",
        "email": "huong.pham@example.vn",
    }
    long_ = {
        "social_insurance_code": "4800000003",
        "full_name": "Trịnh Văn Long",
        "relationship": "father",
        "phone": "0905111222",
        "email": "long.trinh@example.vn",
    }
    return [
        Scene(
            "Approved by a reviewer",
            f"demo-{stamp}-approved",
            an,
            {
                "social_insurance_code": "7900000011",
                "full_name": "Nguyễn Minh Khôi",
                "date_of_birth": "2020-03-14",
            },
            "79001",
            DecideUpdate(
                decision_id=f"demo-{stamp}-d1", reviewer_id="rv-79001-01", outcome=Outcome.APPROVE
            ),
        ),
        Scene(
            "Rejected with a reason",
            f"demo-{stamp}-rejected",
            dung,
            {
                "social_insurance_code": "0100000011",
                "full_name": "Lê Thu Trang",
                "date_of_birth": "2014-08-19",
            },
            "01001",
            DecideUpdate(
                decision_id=f"demo-{stamp}-d2",
                reviewer_id="rv-01001-01",
                outcome=Outcome.REJECT,
                reason_code="BIRTH_CERTIFICATE_MISMATCH",
                note="Ngày sinh trên giấy khai sinh khác với tờ khai.",
            ),
        ),
        Scene(
            "Auto-rejected: the guardian's account is locked",
            f"demo-{stamp}-auto",
            huong,
            {
                "social_insurance_code": "0100000021",
                "full_name": "Phạm Gia Bảo",
                "date_of_birth": "2018-12-01",
            },
            "01001",
            None,
        ),
        Scene(
            "Waiting in the Đà Nẵng office's queue (child identified by personal id number)",
            f"demo-{stamp}-waiting",
            long_,
            {
                "personal_id_number": "048222000031",
                "full_name": "Trịnh Gia Hưng",
                "date_of_birth": "2022-09-09",
            },
            "48001",
            None,
        ),
    ]


async def play(
    client: Client,
    documents: DocumentStore,
    mail_dir: Path,
    sms_dir: Path,
    console: Console,
    show_status: Callable[[str], None],
    task_queue: str,
) -> str:
    """Run the four registrations to their outcomes and show what each guardian received.

    Returns the request id of the registration left waiting in its office's queue."""
    portrait = documents.put(demo_picture(1, "ANH CHAN DUNG"))
    certificate = documents.put(demo_picture(2, "GIAY KHAI SINH"))
    now = datetime.now(UTC).replace(microsecond=0)
    stamp = now.astimezone(VIETNAM).strftime("%Y%m%d%H%M%S")
    console.rule("[bold]Demo: four registrations")
    waiting = ""
    for scene in scenes(stamp):
        handle = await client.start_workflow(
            WORKFLOW_TYPE,
            _request(scene, now, portrait, certificate),
            id=workflow_id_for(scene.request_id),
            task_queue=task_queue,
        )
        status = await _settled(handle)
        if scene.decision is not None:
            await handle.execute_update(ChildAccountRegistration.decide, scene.decision)
            await handle.result()
            status = await handle.query(ChildAccountRegistration.status)
        console.print(
            Panel.fit(f"[bold]{scene.title}[/bold]\nrequest {scene.request_id}: {_summary(status)}")
        )
        await asyncio.to_thread(show_status, scene.request_id)
        await _show_messages(scene, status, mail_dir, sms_dir, console)
        if status.waiting_for == "reviewer":
            waiting = scene.request_id
    return waiting


def _request(scene: Scene, now: datetime, portrait: str, certificate: str) -> dict[str, Any]:
    submitted = now.astimezone(VIETNAM)
    return {
        "request_id": scene.request_id,
        "submitted_at": submitted.isoformat(),
        "guardian": scene.guardian,
        "child": {**scene.child, "health_insurance_card_qr": None},
        "documents": {"portrait": portrait, "birth_certificate": certificate},
        "office_code": scene.office_code,
        "commitment": {
            "accepted": True,
            "accepted_at": (submitted - timedelta(seconds=20)).isoformat(),
        },
    }


async def _settled(handle: WorkflowHandle[Any, Any], timeout: float = 60) -> RegistrationStatus:
    """Wait until the registration awaits a reviewer or has ended (the query answers at once)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status: RegistrationStatus = await handle.query(ChildAccountRegistration.status)
        if status.waiting_for in ("reviewer", "nobody"):
            return status
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"registration {status.request_id} is still {status.state}")
        await asyncio.sleep(0.2)


def _summary(status: RegistrationStatus) -> str:
    parts = [status.state]
    if status.reason_code:
        parts.append(f"reason {status.reason_code}")
    if status.decided_by:
        parts.append(f"by {status.decided_by}")
    if status.review_deadline and status.outcome is None:
        parts.append(f"review due {status.review_deadline.astimezone(VIETNAM):%d/%m/%Y %H:%M}")
    return ", ".join(parts)


async def _show_messages(
    scene: Scene, status: RegistrationStatus, mail_dir: Path, sms_dir: Path, console: Console
) -> None:
    reference = "DK-" + status.registration_id.replace("-", "")[:8].upper()
    deadline = asyncio.get_running_loop().time() + 30
    expected = 2 if status.outcome not in (None, FinalOutcome.AUTO_REJECTED) else 1
    while True:
        mails = sorted(_subjects(mail_dir, reference))
        texts = sorted(_sms(sms_dir, reference))
        if (
            len(mails) >= expected and len(texts) >= expected
        ) or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.2)
    for subject in mails:
        console.print(f"  email to {scene.guardian['email']}: {subject}")
    for text in texts:
        console.print(f"  SMS to {scene.guardian['phone']}: {text}")


def _subjects(mail_dir: Path, reference: str) -> list[str]:
    subjects = []
    for path in mail_dir.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        subject = str(message["Subject"] or "")
        if reference in subject:
            subjects.append(subject)
    return subjects


def _sms(sms_dir: Path, reference: str) -> list[str]:
    texts = []
    for path in sms_dir.glob("*.json"):
        try:
            text = str(json.loads(path.read_text()).get("text", ""))
        except (OSError, ValueError):
            continue
        if reference in text:
            texts.append(text)
    return texts


WHAT_NEXT = """\
[bold]Try it yourself[/bold] (in another terminal, in this directory: every command finds this stack through var/)

  An upstream service, with the temporal CLI:
    .venv/bin/childreg documents put photo.jpg          # prints sha256:… for the request's documents
    .venv/bin/temporal workflow start --type ChildAccountRegistration --task-queue {task_queue} \\
        --workflow-id registration-<request_id> --input "$(cat request.json)"{codec}
    .venv/bin/temporal workflow list
  A reviewer:
    .venv/bin/childreg queue 48001
    .venv/bin/childreg reviewers set-password rv-48001-01    # once; then asked for at each decision
    .venv/bin/childreg review approve {waiting} --reviewer rv-48001-01
    .venv/bin/childreg review reject <request_id> --reviewer rv-79001-01 --reason PHOTO_UNCLEAR
  Anyone who asks about a registration:
    .venv/bin/childreg status {waiting}
    .venv/bin/childreg stats
  The guardian's messages: var/mail/*.eml and var/sms/*.json
"""
