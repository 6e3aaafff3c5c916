"""The activities' rules on their own: document checks, the identity race, the payload codec."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import threading
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from PIL import Image, ImageOps, PngImagePlugin
from temporalio.api.common.v1 import Payload

from activities.accounts import account_id_for
from activities.documents import (
    MAX_BYTES,
    SHARPNESS_HARD,
    SHARPNESS_SOFT,
    DocumentRefused,
    DocumentStore,
    inspect,
)
from domain.contract import RegistrationRequest
from domain.identity import IdentityCheck
from domain.registry import AccountStatus
from tests import builders
from tests.workflow.conftest import TEST_KEY
from workers.bootstrap import Adapters
from workers.temporal_client import AesGcmCodec


def test_a_sharp_scan_passes_without_warnings() -> None:
    inspection = inspect(builders.sharp_jpeg())

    assert inspection.sharpness >= SHARPNESS_SOFT
    assert inspection.warnings == []


def test_a_soft_image_passes_with_a_warning() -> None:
    inspection = inspect(builders.soft_png())

    assert SHARPNESS_HARD <= inspection.sharpness < SHARPNESS_SOFT
    assert inspection.warnings == ["the image is soft: check that it is legible"]


@pytest.mark.parametrize(
    ("data", "reason_code", "rule"),
    [
        pytest.param(builders.blurred_jpeg(), "DOCUMENT_UNREADABLE", "too blurred", id="blurred"),
        pytest.param(builders.tiny_png(), "DOCUMENT_UNREADABLE", "at least 300 pixels", id="tiny"),
        pytest.param(
            builders.truncated_jpeg(), "DOCUMENT_UNREADABLE", "cannot be decoded", id="truncated"
        ),
        pytest.param(b"%PDF-1.7 not an image", "DOCUMENT_UNREADABLE", "JPEG or PNG", id="pdf"),
        pytest.param(b"\xff" * (MAX_BYTES + 1), "DOCUMENT_TOO_LARGE", "at most", id="too-large"),
    ],
)
def test_refuses_an_unusable_image(data: bytes, reason_code: str, rule: str) -> None:
    with pytest.raises(DocumentRefused) as refused:
        inspect(data)

    assert refused.value.reason_code == reason_code
    assert rule in refused.value.rule


def test_metadata_is_stripped_from_what_is_kept() -> None:
    original = builders.jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif()

    kept = inspect(original).kept

    assert not Image.open(io.BytesIO(kept)).getexif()


def checked(data: bytes) -> Image.Image:
    """The image the checks look at: decoded and turned upright by its EXIF orientation."""
    with Image.open(io.BytesIO(data)) as opened:
        opened.load()
        return ImageOps.exif_transpose(opened)


def turned(kind: str) -> bytes:
    """A scan stored on its side (EXIF orientation 6: shown turned 90° clockwise) with GPS in its
    EXIF and, for PNG, a text chunk."""
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    exif[0x8825] = {1: "N", 2: (10.0, 46.0, 30.0)}  # GPSInfo
    options: dict[str, Any] = {"exif": exif}
    if kind == "PNG":
        text = PngImagePlugin.PngInfo()
        text.add_text("Comment", "Phone maker")
        options["pnginfo"] = text
    return builders.encoded(builders.scan(640, 400), kind, **options)


def test_what_is_kept_of_a_png_shows_the_checked_pixels() -> None:
    original = turned("PNG")
    shown = checked(original)

    inspection = inspect(original)
    kept = Image.open(io.BytesIO(inspection.kept))

    assert shown.size == (400, 640)  # upright
    assert (kept.size, kept.mode) == (shown.size, shown.mode)
    assert (inspection.width, inspection.height) == shown.size
    assert kept.tobytes() == shown.tobytes()
    assert not kept.getexif()
    assert "Comment" not in kept.info


def test_what_is_kept_of_a_jpeg_has_the_checked_size() -> None:
    original = turned("JPEG")
    shown = checked(original)

    inspection = inspect(original)
    kept = Image.open(io.BytesIO(inspection.kept))

    assert shown.size == (400, 640)
    assert (kept.size, kept.mode) == (shown.size, "RGB")
    assert (inspection.width, inspection.height) == shown.size
    assert not kept.getexif()


def test_kept_documents_are_encrypted_at_rest(tmp_path: Path) -> None:
    store = DocumentStore(tmp_path, TEST_KEY)
    registration_id = uuid4()
    data = inspect(builders.sharp_jpeg()).kept

    path = store.keep(registration_id, "portrait", data, "jpg")

    assert data not in path.read_bytes()
    assert data[:64] not in path.read_bytes()
    assert store.read_kept(path, registration_id, "portrait") == data


@pytest.mark.parametrize(
    "reference",
    [
        "../intake/x",
        "sha256:../../etc/passwd",
        "sha256:" + "A" * 64,
        "/etc/passwd",
        "sha256:" + "0" * 63,
    ],
)
def test_refuses_forged_or_path_like_references(tmp_path: Path, reference: str) -> None:
    with pytest.raises(DocumentRefused, match="sha256:"):
        DocumentStore(tmp_path).read_intake(reference)


def test_the_intake_is_content_addressed(tmp_path: Path) -> None:
    store = DocumentStore(tmp_path)
    data = builders.sharp_jpeg()

    reference = store.put(data)

    assert store.put(data) == reference
    assert store.read_intake(reference) == data
    with pytest.raises(DocumentRefused, match="JPEG or PNG"):
        store.put(b"GIF89a...")


def test_a_tampered_intake_copy_is_refused(tmp_path: Path) -> None:
    store = DocumentStore(tmp_path)
    reference = store.put(builders.sharp_jpeg())
    (tmp_path / "intake" / reference.removeprefix("sha256:")).write_bytes(builders.sharp_jpeg(9))

    with pytest.raises(DocumentRefused, match="does not match"):
        store.read_intake(reference)


def test_with_a_key_the_intake_copy_is_encrypted_at_rest(tmp_path: Path) -> None:
    store = DocumentStore(tmp_path, TEST_KEY)
    original = builders.jpeg_with_gps()

    reference = store.put(original)

    stored = (tmp_path / "intake" / reference.removeprefix("sha256:")).read_bytes()
    assert reference == "sha256:" + hashlib.sha256(original).hexdigest()  # of the original
    assert b"Phone maker" not in stored  # the EXIF travels encrypted
    assert not stored.startswith(b"\xff\xd8")
    assert store.read_intake(reference) == original
    with pytest.raises(DocumentRefused, match="encrypted and no key is configured"):
        DocumentStore(tmp_path).read_intake(reference)
    other_key = base64.b64encode(bytes(range(32))).decode()
    with pytest.raises(DocumentRefused, match="cannot be decrypted with this key"):
        DocumentStore(tmp_path, other_key).read_intake(reference)


def test_an_encrypted_intake_copy_moved_to_another_reference_is_refused(tmp_path: Path) -> None:
    store = DocumentStore(tmp_path, TEST_KEY)
    first, second = store.put(builders.sharp_jpeg(1)), store.put(builders.sharp_jpeg(2))
    intake = tmp_path / "intake"
    (intake / second.removeprefix("sha256:")).write_bytes(
        (intake / first.removeprefix("sha256:")).read_bytes()
    )

    with pytest.raises(DocumentRefused, match="cannot be decrypted"):
        store.read_intake(second)


def test_a_keyed_store_still_reads_a_plain_intake_copy(tmp_path: Path) -> None:
    reference = DocumentStore(tmp_path).put(builders.sharp_jpeg())  # put before a key was set

    assert DocumentStore(tmp_path, TEST_KEY).read_intake(reference) == builders.sharp_jpeg()


def _request() -> RegistrationRequest:
    ref = "sha256:" + "1" * 64
    return RegistrationRequest.model_validate(builders.request(f"r-{uuid4().hex[:8]}", ref, ref))


def test_two_registrations_for_one_child_at_once_cannot_both_pass(adapters: Adapters) -> None:
    check = IdentityCheck(adapters.registry, adapters.claims)
    barrier = threading.Barrier(8)
    failures: list[str | None] = []

    def register() -> None:
        barrier.wait()
        findings = check.check(_request(), uuid4())
        failures.append(findings.failure.reason_code if findings.failure else None)

    threads = [threading.Thread(target=register) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures.count(None) == 1
    assert sorted(f for f in failures if f) == ["REGISTRATION_IN_PROGRESS"] * 7


def test_a_released_claim_lets_the_next_registration_pass(adapters: Adapters) -> None:
    claims = adapters.claims
    first, second = uuid4(), uuid4()

    claims.claim(builders.CHILD, first)
    blocked = claims.claim(builders.CHILD, second)
    claims.release(first)

    assert blocked == first
    assert claims.claim(builders.CHILD, second) == second


def test_the_payload_codec_encrypts_and_decodes() -> None:
    codec = AesGcmCodec(TEST_KEY)
    payload = Payload(
        metadata={"encoding": b"json/plain"}, data='{"full_name":"Nguyễn Minh Khôi"}'.encode()
    )

    encoded = asyncio.run(codec.encode([payload]))
    decoded = asyncio.run(codec.decode(encoded))

    assert "Nguyễn".encode() not in encoded[0].data
    assert decoded == [payload]
    assert asyncio.run(codec.decode([payload])) == [payload]  # plain JSON from a CLI passes


def test_activating_twice_gives_the_same_account(adapters: Adapters) -> None:
    registration = uuid4()

    first = adapters.accounts.activate(builders.CHILD, builders.GUARDIAN, registration)
    again = adapters.accounts.activate(builders.CHILD, builders.GUARDIAN, registration)  # a retry

    assert first == again == account_id_for(registration)
    account = adapters.registry.account(builders.CHILD)
    assert account is not None
    assert account.status is AccountStatus.ACTIVE


def test_a_later_registration_activates_the_childs_locked_account_again(
    adapters: Adapters, database_url: str
) -> None:
    earlier, later = uuid4(), uuid4()
    account = adapters.accounts.activate(builders.CHILD, builders.GUARDIAN, earlier)
    with psycopg.connect(database_url) as connection:
        connection.execute(
            "UPDATE registry_accounts SET status = 'locked' WHERE social_insurance_code = %s",
            (builders.CHILD,),
        )

    again = adapters.accounts.activate(builders.CHILD, builders.SIBLING, later)

    assert again == account  # one account per child, under its first id
    found = adapters.registry.account(builders.CHILD)
    assert found is not None
    assert found.status is AccountStatus.ACTIVE
    with psycopg.connect(database_url) as connection:
        link = connection.execute(
            "SELECT guardian_code, registration_id FROM registry_child_accounts"
            " WHERE child_code = %s",
            (builders.CHILD,),
        ).fetchall()
    assert link == [(builders.SIBLING, later)]
