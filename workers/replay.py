"""Replaying recorded Temporal histories with the current workflow code (``childreg audit
replay-workflows``): a change that would break running registrations fails here first."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from activities.keys import DataKeys
from workers.bootstrap import cipher_key, data_keys, resolve
from workers.settings import Settings
from workers.stack import temporal_address
from workers.temporal_client import connect, data_converter


@dataclass(frozen=True)
class ReplayOutcome:
    name: str
    failure: str | None
    """None: the current workflow code reproduces the history's commands exactly."""


def load_histories(directory: Path) -> list[tuple[str, WorkflowHistory]]:
    """Every ``*.json`` history in ``directory`` (as ``temporal workflow show --output json``
    or ``WorkflowHistory.to_json`` writes them), named by file."""
    return [
        (path.stem, WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8")))
        for path in sorted(directory.glob("*.json"))
    ]


def replay(
    histories: Sequence[tuple[str, WorkflowHistory]],
    cipher_key: str | None,
    workflows: Sequence[type] | None = None,
    data_keys: DataKeys | None = None,
) -> list[ReplayOutcome]:
    """Replay each history with the workflow code (the current one by default)."""
    from workflows.registration import ChildAccountRegistration

    async def run() -> list[ReplayOutcome]:
        replayer = Replayer(
            workflows=list(workflows or [ChildAccountRegistration]),
            data_converter=data_converter(cipher_key, data_keys),
        )
        outcomes = []
        for name, history in histories:
            result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
            failure = result.replay_failure
            outcomes.append(
                ReplayOutcome(
                    name, None if failure is None else f"{type(failure).__name__}: {failure}"
                )
            )
        return outcomes

    return asyncio.run(run())


def replay_directory(directory: Path, settings: Settings) -> list[ReplayOutcome]:
    # Recorded test histories are plain JSON; the codec passes plain payloads through, so the
    # configured key (for histories exported from an encrypting deployment) does no harm.
    key = settings.cipher_key.get_secret_value() if settings.cipher_key else None
    return replay(load_histories(directory), key)


def replay_from_server(settings: Settings, query: str) -> list[ReplayOutcome]:
    """Fetch the histories of the workflows a visibility query lists, then replay them."""
    key = cipher_key(settings)
    keys = data_keys(resolve(settings)) if key else None  # each registration's payloads' keys

    async def fetch() -> list[tuple[str, WorkflowHistory]]:
        client = await connect(
            temporal_address(settings), settings.temporal_namespace, key, data_keys=keys
        )
        return [
            (history.workflow_id, history)
            async for history in client.list_workflows(query).map_histories()
        ]

    return replay(asyncio.run(fetch()), key, data_keys=keys)
