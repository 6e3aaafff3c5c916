"""An erasure on the real development stack (``childreg dev`` with its demo): afterwards none of
the child's name, code or birth date is in any table's text, json or bytea column, in any file
under the data directory, or in the registration's Temporal history decoded through the codec
server; the other registrations still decrypt; ``audit verify --all`` exits 0; the guardian's
link answers 410; a rebuild of the read models gives the live ones. Before it, ``privacy export``
gives every message with the subject and text the mail sink and the SMS outbox received; after
it, the export says the data was erased.

The registry's own tables hold the national registry's data about the child (the demo registry
is loaded into them): they are the source the service checks against, not the registration's
data, and are left out of the scan, as is PostgreSQL's data directory (scanned through SQL).
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import re
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from activities.keys import CACHE_SECONDS
from activities.registry import store as registry_store
from tests.integration.privacy.test_erasure import database_hits, read_model_tables
from tests.integration.test_dev_stack import CHILDREG, Dev, dev_ports, start_dev, temporal
from workers.bootstrap import tables_created

CHILD = {"name": "Lê Thu Trang", "code": "0100000011", "born": "2014-08-19"}
"""The demo's rejected registration's child (``workers/run/demo.py``)."""

REGISTRY_TABLES = set(tables_created(registry_store.SCHEMA))


@pytest.fixture(scope="module")
def dev() -> Iterator[Dev]:
    import shutil
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="childreg-erase-", dir="/tmp"))
    ports = dev_ports()
    running = start_dev(path, ports)
    yield running
    if running.process.poll() is None:
        running.stop()
    shutil.rmtree(path, ignore_errors=True)


def childreg(dev: Dev, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHILDREG, *args], env=dev.env(), capture_output=True, text=True, timeout=180
    )


def database_url(dev: Dev) -> str:
    found = re.search(r"^PostgreSQL\s+(\S+)", dev.output, re.MULTILINE)
    assert found, dev.output
    return found.group(1)


def link_of(dev: Dev, registration_id: str) -> str:
    """The guardian's declaration link, from the registration's emails in the mail sink."""
    for subject, text in sent_texts(dev, registration_id).values():
        found = re.search(r"/declarations/[A-Za-z0-9._~-]+", text)
        if subject is not None and found:
            return f"http://127.0.0.1:{dev.ports['web-port']}{found.group(0)}"
    raise AssertionError("no declaration link in the registration's emails")


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310  (a local URL)
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()


def decoded_history(dev: Dev, request_id: str) -> str:
    """The workflow's history through the codec server, every payload's data decoded from the
    base64 the CLI's JSON shows it in (what the codec could not decrypt stays ciphertext)."""
    codec = f"--codec-endpoint=http://127.0.0.1:{dev.ports['codec-port']}"
    shown = temporal(
        dev, "workflow", "show", "--workflow-id", f"registration-{request_id}", codec, "-o", "json"
    )
    texts = [shown]

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("data"), str) and "metadata" in value:
                texts.append(base64.b64decode(value["data"]).decode("utf-8", "replace"))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(json.loads(shown))
    return "\n".join(texts)


def file_hits(data_dir: Path, child: dict[str, str] = CHILD) -> list[str]:
    needles = [value.encode() for value in child.values()]
    postgres = data_dir / "postgres"
    return [
        str(path.relative_to(data_dir))
        for path in data_dir.rglob("*")
        if path.is_file()
        and postgres not in path.parents
        and any(needle in path.read_bytes() for needle in needles)
    ]


def sent_texts(dev: Dev, registration_id: str) -> dict[str, tuple[str | None, str]]:
    """Message id → (subject, text) of every email in the mail sink and SMS in the outbox that
    went to the registration's guardian, as delivered."""
    sent: dict[str, tuple[str | None, str]] = {}
    for path in (dev.data_dir / "mail").glob(f"*{registration_id}*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        plain = message.get_body(("plain",))
        assert plain is not None, path.name
        text = plain.get_content().replace("\r\n", "\n")
        sent[str(message["Message-ID"])] = (str(message["Subject"]), text)
    for path in (dev.data_dir / "sms").glob(f"*{registration_id}*.json"):
        sms = json.loads(path.read_text(encoding="utf-8"))
        sent[sms["message_id"]] = (None, sms["text"])
    return sent


def exported(dev: Dev, request_id: str, out: Path) -> dict[str, Any]:
    done = childreg(dev, "privacy", "export", request_id, "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    document: dict[str, Any] = json.loads((out / "export.json").read_text(encoding="utf-8"))
    return document


def test_an_erasure_on_the_dev_stack_leaves_nothing_of_the_child(dev: Dev, tmp_path: Path) -> None:
    played = dict(re.findall(r"request (demo-\d+-\w+): (\w+)", dev.output))
    rejected = next(request for request in played if request.endswith("-rejected"))
    approved = next(request for request in played if request.endswith("-approved"))
    status = json.loads(childreg(dev, "status", rejected, "--json").stdout)
    registration_id = status["registration_id"]
    link = link_of(dev, registration_id)
    assert get(link)[0] == 200
    assert CHILD["name"] in decoded_history(dev, rejected)  # the scan below can see it
    url = database_url(dev)
    before = exported(dev, rejected, tmp_path / "before")
    assert before["request"]["child"]["full_name"] == CHILD["name"]
    sent = sent_texts(dev, registration_id)
    assert {"email", "sms"} <= {n["channel"] for n in before["notifications"]}
    assert {n["message_id"]: (n["subject"], n["body"]) for n in before["notifications"]} == sent

    erased = childreg(
        dev, "privacy", "erase", rejected, "--reason", "guardian's request", "--by", "dpo-1"
    )

    assert erased.returncode == 0, erased.stdout + erased.stderr
    assert "personal data erased" in erased.stdout
    time.sleep(CACHE_SECONDS + 1)  # the running stack's processes read the key table again
    hits = [hit for hit in database_hits(url, CHILD) if hit.split(".")[0] not in REGISTRY_TABLES]
    assert hits == []
    assert file_hits(dev.data_dir) == []
    history = decoded_history(dev, rejected)
    assert all(value not in history for value in CHILD.values())
    assert "Nguyễn Minh Khôi" in decoded_history(dev, approved)  # the others still decrypt
    code, page = get(link)
    assert code == 410
    assert "đã được xoá" in page
    verified = childreg(dev, "audit", "verify", "--all")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    after = exported(dev, rejected, tmp_path / "after")
    assert (after["erased"], after["notifications"]) == (True, [])
    assert CHILD["name"] not in json.dumps(after, ensure_ascii=False)
    shown = json.loads(childreg(dev, "status", rejected, "--json").stdout)
    assert shown["erased_at"] is not None
    assert shown["state"] == "rejected"

    live = read_model_tables(url)
    rebuilt = childreg(dev, "projections", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert read_model_tables(url) == live

    again = childreg(dev, "privacy", "erase", rejected, "--reason", "again", "--by", "dpo-1")
    assert again.returncode == 0, again.stderr
    assert "already erased" in again.stdout


def test_an_open_registration_is_erased_only_with_withdraw_which_ends_it_first(dev: Dev) -> None:
    played = dict(re.findall(r"request (demo-\d+-\w+): (\w+)", dev.output))
    waiting = next(request for request in played if request.endswith("-waiting"))
    # The demo's waiting registration's child (workers/run/demo.py).
    child = {"name": "Trịnh Gia Hưng", "id": "048222000031", "born": "2022-09-09"}
    status = json.loads(childreg(dev, "status", waiting, "--json").stdout)
    assert status["state"] == "awaiting_review"
    registration_id = status["registration_id"]

    refused = childreg(dev, "privacy", "erase", waiting, "--reason", "guardian's request", "--by", "dpo-1")  # fmt: skip

    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert f"registration {waiting} is still awaiting_review" in refused.stderr
    assert "--withdraw" in refused.stderr
    assert json.loads(childreg(dev, "status", waiting, "--json").stdout)["erased_at"] is None

    erased = childreg(
        dev, "privacy", "erase", waiting, "--reason", "guardian's request", "--by", "dpo-1",
        "--withdraw",
    )  # fmt: skip

    assert erased.returncode == 0, erased.stdout + erased.stderr
    assert "personal data erased" in erased.stdout
    shown = json.loads(childreg(dev, "status", waiting, "--json").stdout)
    assert shown["state"] == "withdrawn"
    assert shown["erased_at"] is not None
    described = temporal(dev, "workflow", "describe", "--workflow-id", f"registration-{waiting}")
    assert "Completed" in described or "COMPLETED" in described
    assert not list((dev.data_dir / "mail").glob(f"*{registration_id}*"))
    assert not list((dev.data_dir / "sms").glob(f"*{registration_id}*"))
    assert file_hits(dev.data_dir, child) == []
