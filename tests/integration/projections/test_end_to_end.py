"""End to end with the workflow: a registration started through Temporal (the time-skipping
server, the real activities) shows up in ``childreg status`` and its office's ``childreg queue``;
after approval it leaves the queue and the statistics count it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from domain.contract import ApproveSignal
from projections.catalogue import create_schema
from projections.runners import RunningProjections
from tests import builders
from tests.integration.projections.conftest import KEY
from tests.workflow.conftest import TEST_KEY, Stack, adapters, reach, stack, temporal
from workers.bootstrap import event_store_env
from workers.cli.query import register

__all__ = ["adapters", "stack", "temporal"]  # the workflow tests' fixtures

LINK_SECRET = "a link secret for the tests"  # KEY is derived from it

app = typer.Typer()
register(app)


async def childreg(cli_env: dict[str, str], *args: str) -> Any:
    """Run a query command off the event loop (the worker shares the loop) and parse its JSON."""
    result = await asyncio.to_thread(CliRunner().invoke, app, [*args, "--json"], env=cli_env)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


async def test_a_registration_started_through_temporal_is_in_status_queue_and_statistics(
    stack: Stack, database_url: str, tmp_path: Path
) -> None:
    env = event_store_env(database_url, TEST_KEY)
    create_schema(env)
    cli_env = {
        "CHILDREG_DATABASE_URL": database_url,
        "CHILDREG_CIPHER_KEY": TEST_KEY,
        "CHILDREG_LINK_SECRET": LINK_SECRET,
        "CHILDREG_DATA_DIR": str(tmp_path),
    }
    request = stack.request()
    request_id = request["request_id"]
    recorder = stack.adapters.service.recorder

    with RunningProjections(env, KEY):
        handle = await stack.start(request)
        await reach(handle, "awaiting_review")
        waiting = ("--wait-for", str(recorder.max_notification_id()), "--timeout", "20")
        status = await childreg(cli_env, "status", request_id, *waiting)
        queue = await childreg(cli_env, "queue", builders.OFFICE, *waiting)

        await handle.signal(
            "approve", ApproveSignal(decision_id="d-e2e", reviewer_id=builders.REVIEWER)
        )
        await handle.result()
        waiting = ("--wait-for", str(recorder.max_notification_id()), "--timeout", "20")
        decided = await childreg(cli_env, "status", request_id, *waiting)
        queue_after = await childreg(cli_env, "queue", builders.OFFICE, *waiting)
        statistics = await childreg(cli_env, "stats", builders.OFFICE, *waiting)
        children = await childreg(cli_env, "guardian", builders.GUARDIAN, *waiting)

    assert status["state"] == "awaiting_review"
    assert status["office_code"] == builders.OFFICE
    assert status["child_code_masked"] == "******" + builders.CHILD[-4:]
    assert [entry["request_id"] for entry in queue["entries"]] == [request_id]
    assert decided["outcome"] == "approved"
    assert decided["decided_by"] == builders.REVIEWER
    assert decided["state"] == "account_activated"
    assert queue_after["entries"] == []
    assert statistics["decisions"] == 1
    assert statistics["approved"] == 1
    assert statistics["counts"]["account_activated"] == 1
    assert statistics["median_seconds_to_decision"] is not None
    assert children["children"][0]["account_status"] == "active"
