"""The codec server (``childreg codec-server``) with the real ``temporal`` CLI and dev server: an
upstream's CLI reads query answers, update answers and results through it, and encrypts what it
sends; without it the CLI sees only ciphertext. Then the HTTP protocol itself: CORS, bad bodies,
payloads under another key, authorization, loopback only."""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import os
import signal
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from structlog.testing import capture_logs
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from domain.contract import RegistrationStatus
from tests import builders
from tests.e2e.stack import BIN, address
from tests.workflow.conftest import TEST_KEY
from workers.bootstrap import Adapters
from workers.run.codec_server import CodecServer, start_codec_server
from workers.temporal_client import AesGcmCodec
from workflows.registration import WORKFLOW_TYPE

OTHER_KEY = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="  # 32 bytes, base64
CHILD_NAME = "Nguyễn Minh Khôi"
WITHIN = 30.0
ENCRYPTED = "binary/encrypted"


# -- the stack: dev server, worker, codec server ----------------------------------------------


@dataclass
class CodecProcess:
    """A ``childreg codec-server`` process: its endpoint, its key id, its log."""

    process: subprocess.Popen[str]
    url: str
    key_id: str
    log_file: Path

    def log(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace")


def _environment(data_dir: Path, **settings: str) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("CHILDREG_")}
    return {
        **inherited,
        "CHILDREG_DATA_DIR": str(data_dir),
        "CHILDREG_LOG_FORMAT": "json",
        "CHILDREG_LOG_LEVEL": "debug",
        **settings,
    }


@asynccontextmanager
async def codec_process(data_dir: Path, *args: str, **settings: str) -> AsyncIterator[CodecProcess]:
    log_file = data_dir / f"codec-{uuid.uuid4().hex[:6]}.log"
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [str(BIN / "childreg"), "codec-server", "--port", "0", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env=_environment(data_dir, **settings),
        )
    try:
        assert process.stdout is not None
        first = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), WITHIN)
        assert first.startswith("Codec server"), f"{first!r}; log: {log_file.read_text()}"
        url, key_id = first.split()[2], first.split("key id ")[1].rstrip(")\n")
        yield CodecProcess(process, url, key_id, log_file)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(process.wait, WITHIN) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture
async def codec(data_dir: Path, database_url: str) -> AsyncIterator[CodecProcess]:
    """``childreg codec-server`` with the workers' key (``CHILDREG_CIPHER_KEY``) and their
    database (the registrations' data keys)."""
    async with codec_process(
        data_dir, CHILDREG_CIPHER_KEY=TEST_KEY, CHILDREG_DATABASE_URL=database_url
    ) as running:
        yield running


async def temporal(
    env: WorkflowEnvironment, *args: str, codec: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run the ``temporal`` CLI off the event loop (the worker shares the loop with the test)."""
    command = [str(BIN / "temporal"), *args, "--address", address(env), "--namespace", "default"]
    if codec is not None:
        command += ["--codec-endpoint", codec]
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
    done: subprocess.CompletedProcess[str] = await asyncio.to_thread(
        subprocess.run,
        command,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=inherited,
    )
    if check:
        assert done.returncode == 0, f"temporal {' '.join(args[:2])}: {done.stderr}"
    return done


async def reach(client: Client, workflow_id: str, state: str) -> None:
    handle = client.get_workflow_handle(workflow_id)
    give_up = asyncio.get_running_loop().time() + WITHIN
    while True:
        status = await handle.query("status", result_type=RegistrationStatus)
        if status.state == state:
            return
        if asyncio.get_running_loop().time() > give_up:
            raise AssertionError(f"{workflow_id} stayed {status.state}, never {state}")
        await asyncio.sleep(0.05)


def request_body(adapters: Adapters) -> dict[str, Any]:
    portrait = adapters.documents.put(builders.jpeg_with_gps())
    certificate = adapters.documents.put(builders.encoded(builders.scan(seed=3), "PNG"))
    return builders.request(f"vssid-codec-{uuid.uuid4().hex[:8]}", portrait, certificate)


def json_after(label: str, output: str) -> dict[str, Any]:
    """The JSON object the CLI prints after ``label`` (it may span lines)."""
    start = output.index("{", output.index(label))
    value, _ = json.JSONDecoder().raw_decode(output[start:])
    assert isinstance(value, dict)
    return value


def unbase64(text: str) -> str:
    with suppress(ValueError):
        return base64.b64decode(text, validate=True).decode("utf-8", errors="replace")
    return ""


def readable(output: str) -> str:
    """The CLI's output and every base64 ``data`` in it, decoded: what a reader could see."""
    decoded: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "data" and isinstance(item, str):
                    decoded.append(unbase64(item))
                if key == "metadata" and isinstance(item, dict):
                    decoded.extend(unbase64(v) for v in item.values() if isinstance(v, str))
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(json.loads(output))
    return "\n".join([output, *decoded])


def shows(text: str, value: str) -> bool:
    return value in text or json.dumps(value)[1:-1] in text


# -- the temporal CLI through the codec server ------------------------------------------------


async def test_the_temporal_cli_queries_decides_and_reads_the_result_through_the_codec_server(
    dev_server: WorkflowEnvironment, worker: str, adapters: Adapters, codec: CodecProcess
) -> None:
    body = request_body(adapters)
    workflow_id = f"registration-{body['request_id']}"
    await dev_server.client.start_workflow(
        WORKFLOW_TYPE, body, id=workflow_id, task_queue=worker
    )  # as childreg submit does: encrypted by the client
    await reach(dev_server.client, workflow_id, "awaiting_review")
    wid = ("--workflow-id", workflow_id)

    query = await temporal(
        dev_server, "workflow", "query", *wid, "--name", "status", codec=codec.url
    )
    opaque_query = await temporal(dev_server, "workflow", "query", *wid, "--name", "status")
    decide = json.dumps(
        {"decision_id": "d-codec-1", "reviewer_id": builders.REVIEWER, "outcome": "approve"}
    )
    update = await temporal(
        dev_server, "workflow", "update", "execute", *wid, "--name", "decide", "--input", decide,
        codec=codec.url,
    )  # fmt: skip
    result = await temporal(dev_server, "workflow", "result", *wid, codec=codec.url)
    opaque_result = await temporal(dev_server, "workflow", "result", *wid, "--output", "json")

    status = json_after("QueryResult", query.stdout)
    assert status["state"] == "awaiting_review"
    assert status["waiting_for"] == "reviewer"
    assert "awaiting_review" not in opaque_query.stdout  # without the codec: ciphertext
    assert '"state"' not in opaque_query.stdout
    assert update.returncode == 0
    assert "approved" in update.stdout  # the new status, readable
    assert "decided_by" in update.stdout
    outcome = json_after("Result", result.stdout)
    assert outcome["outcome"] == "approved"
    assert outcome["child_account_id"]
    assert "approved" not in opaque_result.stdout  # the encryption is real
    assert ENCRYPTED in readable(opaque_result.stdout)
    assert '"outcome"' not in readable(opaque_result.stdout)
    assert "codec.request" in codec.log()  # it logs each request (at debug)…
    assert not shows(codec.log(), CHILD_NAME)  # …and nothing of a payload


async def test_the_temporal_cli_encrypts_its_input_through_the_codec_server(
    dev_server: WorkflowEnvironment, worker: str, adapters: Adapters, codec: CodecProcess
) -> None:
    body = request_body(adapters)
    workflow_id = f"registration-{body['request_id']}"

    await temporal(
        dev_server, "workflow", "start", "--type", WORKFLOW_TYPE, "--task-queue", worker,
        "--workflow-id", workflow_id, "--id-conflict-policy", "UseExisting",
        "--id-reuse-policy", "RejectDuplicate",
        "--input", json.dumps(body, ensure_ascii=False), codec=codec.url,
    )  # fmt: skip
    await reach(dev_server.client, workflow_id, "awaiting_review")  # the worker decrypted it
    show = ("workflow", "show", "--workflow-id", workflow_id, "--output", "json")
    opaque = await temporal(dev_server, *show)
    decoded = await temporal(dev_server, *show, codec=codec.url)

    for value in (CHILD_NAME, body["child"]["social_insurance_code"], body["guardian"]["phone"]):
        assert not shows(readable(opaque.stdout), value), f"{value!r} is readable in Temporal"
    started = json.loads(opaque.stdout)["events"][0]
    assert started["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"
    assert ENCRYPTED in readable(json.dumps(started))
    assert shows(readable(decoded.stdout), CHILD_NAME)  # the check above can see a name
    assert not shows(codec.log(), CHILD_NAME)


async def test_the_codec_server_finds_the_embedded_stacks_key_and_can_require_authorization(
    data_dir: Path,
) -> None:
    stack_dir = data_dir / "stack"
    (stack_dir / "keys").mkdir(parents=True)
    (stack_dir / "keys" / "cipher.key").write_text(TEST_KEY + "\n")  # as childreg dev keeps it
    token = data_dir / "codec-auth"
    token.write_text("Bearer s3cret-for-tests\n")
    sealed = await AesGcmCodec(TEST_KEY).encode([plain(CHILD_NAME)])

    async with codec_process(
        stack_dir, "--auth-file", str(token), CHILDREG_DATA_DIR=str(stack_dir)
    ) as running:
        allowed = await asyncio.to_thread(
            post, running.url, "/decode", as_json(*sealed), "Bearer s3cret-for-tests"
        )
        refused = await asyncio.to_thread(post, running.url, "/decode", as_json(*sealed), None)

        assert running.key_id == AesGcmCodec(TEST_KEY).key_id.decode()
        assert allowed.status == 200
        assert allowed.payloads() == [plain(CHILD_NAME)]
        assert refused.status == 401
        assert CHILD_NAME.encode() not in refused.body


def post(url: str, path: str, body: str, authorization: str | None) -> Answer:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        headers = {"Content-Type": "application/json"}
        if authorization:
            headers["Authorization"] = authorization
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return Answer(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )
    finally:
        connection.close()


async def test_the_codec_server_refuses_to_start_without_a_key(data_dir: Path) -> None:
    embedded = await asyncio.to_thread(
        subprocess.run,
        [str(BIN / "childreg"), "codec-server", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=WITHIN,
        env=_environment(data_dir),
    )
    external = await asyncio.to_thread(
        subprocess.run,
        [str(BIN / "childreg"), "codec-server", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=WITHIN,
        env=_environment(data_dir, CHILDREG_DATABASE_URL="postgresql://example/none"),
    )

    assert embedded.returncode == 1
    assert "no cipher key" in embedded.stderr
    assert str(data_dir / "keys" / "cipher.key") in embedded.stderr
    assert not (data_dir / "keys").exists()  # no key made up that no worker has
    assert external.returncode == 1
    assert "payloads are not encrypted" in external.stderr


# -- the protocol -------------------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[CodecServer]:
    running, thread = start_codec_server(TEST_KEY, "127.0.0.1", 0)
    yield running
    running.close()
    thread.join(timeout=10)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def payloads(self) -> list[Payload]:
        return list(json_format.Parse(self.body, Payloads()).payloads)


def call(
    server: CodecServer,
    method: str,
    path: str,
    body: bytes | str | None = None,
    headers: dict[str, str] | None = None,
    host: str | None = None,
) -> Answer:
    connect_to, port = server.server_address[:2]
    connection = http.client.HTTPConnection(host or str(connect_to), int(port), timeout=10)
    try:
        sent = {"Content-Type": "application/json"} if body is not None else {}
        connection.request(method, path, body=body, headers={**sent, **(headers or {})})
        response = connection.getresponse()
        return Answer(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )
    finally:
        connection.close()


def as_json(*payloads: Payload) -> str:
    return json_format.MessageToJson(Payloads(payloads=payloads))


def plain(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(text).encode())


def test_encode_then_decode_gives_the_payload_back(server: CodecServer) -> None:
    original = plain(CHILD_NAME)
    nothing = call(server, "POST", "/decode", "{}")  # no payloads: the CLI's query without input

    encoded = call(server, "POST", "/encode", as_json(original))
    decoded = call(server, "POST", "/default/decode", encoded.body)  # the CLI's {namespace} form

    assert (nothing.status, nothing.payloads()) == (200, [])
    assert encoded.status == 200
    assert encoded.headers["content-type"] == "application/json"
    [sealed] = encoded.payloads()
    assert sealed.metadata["encoding"] == ENCRYPTED.encode()
    assert CHILD_NAME.encode() not in sealed.data
    assert decoded.status == 200
    assert decoded.payloads() == [original]
    assert call(server, "POST", "/decode", as_json(original)).payloads() == [original]  # plain JSON


def test_a_payload_under_another_key_is_refused(server: CodecServer) -> None:
    foreign = asyncio.run(AesGcmCodec(OTHER_KEY).encode([plain(CHILD_NAME)]))
    tampered = asyncio.run(AesGcmCodec(TEST_KEY).encode([plain(CHILD_NAME)]))[0]
    tampered.data = tampered.data[:-1] + bytes([tampered.data[-1] ^ 1])

    other_key = call(server, "POST", "/decode", as_json(*foreign))
    corrupted = call(server, "POST", "/decode", as_json(plain("x"), tampered))

    assert other_key.status == 400
    assert b"payload 0: encrypted under another key" in other_key.body
    assert corrupted.status == 400
    assert b"payload 1: cannot be decrypted" in corrupted.body


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("this is not JSON", b"malformed body: not JSON"),
        ("", b"malformed body: not JSON"),
        ("[]", b'malformed body: expected {"payloads"'),
        ('{"payload": []}', b"malformed body: not a Payloads message"),
        ('{"payloads": "Nguyễn Minh Khôi"}', b"malformed body: not a Payloads message"),
        ('{"payloads": [{"dat": "Nguyễn Minh Khôi"}]}', b"malformed body: not a Payloads message"),
    ],
)
def test_a_malformed_body_is_answered_400(server: CodecServer, body: str, message: bytes) -> None:
    answer = call(server, "POST", "/decode", body.encode())

    assert answer.status == 400
    assert answer.body.startswith(message)
    assert CHILD_NAME.encode() not in answer.body  # the answer never repeats the body
    assert b"Nguy" not in answer.body


def test_requests_outside_the_protocol_are_refused(server: CodecServer) -> None:
    assert call(server, "POST", "/convert", as_json()).status == 404
    assert call(server, "GET", "/decode").status == 405
    assert call(server, "POST", "/decode", "{}", {"Content-Type": "text/plain"}).status == 415
    assert call(server, "POST", "/decode", as_json(), host="localhost").status == 200
    rebound = call(server, "POST", "/decode", as_json(), {"Host": "evil.example:8081"})
    assert rebound.status == 403  # a page of another site, its name rebound to 127.0.0.1


def raw_exchange(server: CodecServer, request: bytes) -> bytes:
    """Send bytes as they are and read until the server closes the connection."""
    connect_to, port = server.server_address[:2]
    with socket.create_connection((str(connect_to), int(port)), timeout=10) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received


def test_a_refused_body_is_never_read_as_a_request_nor_logged(
    server: CodecServer, caplog: pytest.LogCaptureFixture
) -> None:
    body = json.dumps({"payloads": [{"data": CHILD_NAME}]}, ensure_ascii=False).encode()
    refused = (
        b"POST /decode HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    garbage = CHILD_NAME.encode() + b" 0031 HTTP/1.1\r\n\r\n"

    with capture_logs() as logged:
        first = raw_exchange(server, refused)  # the server closes: the body is no next request
        second = raw_exchange(server, garbage)

    assert first.startswith(b"HTTP/1.0 415") or first.startswith(b"HTTP/1.1 415")
    assert first.count(b"HTTP/1.") == 1
    assert b"connection: close" in first.lower()
    assert b" 400 " in second.split(b"\r\n", 1)[0]
    assert "Invalid HTTP request received." in caplog.text  # uvicorn's line: the status only
    assert CHILD_NAME not in repr(logged) + caplog.text
    assert "0031" not in repr(logged) + caplog.text


def test_the_web_ui_gets_its_cors_answers(server: CodecServer) -> None:
    ui = "http://localhost:8233"
    preflight = call(
        server,
        "OPTIONS",
        "/decode",
        headers={
            "Origin": ui,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-namespace,authorization",
        },
    )
    posted = call(server, "POST", "/decode", as_json(), {"Origin": ui, "X-Namespace": "default"})
    stranger = call(server, "OPTIONS", "/decode", headers={"Origin": "https://evil.example"})

    assert preflight.status == 204
    assert preflight.headers["access-control-allow-origin"] == ui
    assert "POST" in preflight.headers["access-control-allow-methods"]
    allowed = {h.strip() for h in preflight.headers["access-control-allow-headers"].split(",")}
    assert {"content-type", "x-namespace", "authorization"} <= allowed
    assert posted.status == 200
    assert posted.headers["access-control-allow-origin"] == ui
    assert "access-control-allow-origin" not in stranger.headers


def test_authorization_when_required() -> None:
    running, thread = start_codec_server(TEST_KEY, "127.0.0.1", 0, authorization="Bearer t0ken")
    try:
        missing = call(running, "POST", "/decode", as_json())
        wrong = call(running, "POST", "/decode", as_json(), {"Authorization": "Bearer other"})
        right = call(running, "POST", "/decode", as_json(), {"Authorization": "Bearer t0ken"})
        preflight = call(running, "OPTIONS", "/decode", headers={"Origin": "http://localhost:8233"})
    finally:
        running.close()
        thread.join(timeout=10)

    assert (missing.status, wrong.status, right.status) == (401, 401, 200)
    assert preflight.status == 204  # browsers send no credentials with a preflight


def _own_address() -> str | None:
    """This machine's address on its network (not loopback), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent
        except OSError:
            return None
        own = str(probe.getsockname()[0])
    return None if own.startswith("127.") or own == "0.0.0.0" else own  # noqa: S104


def test_only_loopback_is_answered_unless_the_host_is_chosen() -> None:
    own = _own_address()
    if own is None:
        pytest.skip("this machine has no address but loopback")
    guarded, guarded_thread = start_codec_server(TEST_KEY, "0.0.0.0", 0)  # noqa: S104
    opened, opened_thread = start_codec_server(TEST_KEY, own, 0, loopback_only=False)
    try:
        from_network = call(guarded, "POST", "/decode", as_json(), host=own)
        from_loopback = call(guarded, "POST", "/decode", as_json(), host="127.0.0.1")
        chosen = call(opened, "POST", "/decode", as_json(), host=own)
    finally:
        for running, thread in ((guarded, guarded_thread), (opened, opened_thread)):
            running.close()
            thread.join(timeout=10)

    assert from_network.status == 403
    assert b"loopback only" in from_network.body
    assert from_loopback.status == 200
    assert chosen.status == 200
