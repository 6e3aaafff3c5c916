"""Reading the registry's CSV files (README: "Registry data") into :class:`RegistryData`.

One file per kind of row, ``<kind>.csv``: UTF-8 (a byte-order mark is accepted), a header row
naming every column of the kind in any order, dates ``YYYY-MM-DD``, booleans exactly ``true`` or
``false``, an empty cell for a missing optional value. A file may be absent.

Every problem is collected before anything is returned, as ``file:line: column: rule`` with the
physical line in the file (the header is line 1). Problems name the column and the rule, never
the value: the files hold names, codes and dates of birth.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from domain.registry import (
    Account,
    Holiday,
    Office,
    Person,
    RegistryData,
    RegistryLoadError,
    Reviewer,
    duplicate_problems,
)


@dataclass(frozen=True)
class _FileSpec:
    kind: str
    model: type[BaseModel]
    dates: frozenset[str] = frozenset()
    booleans: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()
    """Columns a file may leave out of its header: every row then has the model's default."""

    @property
    def filename(self) -> str:
        return f"{self.kind}.csv"

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.model.model_fields)


_SPECS = (
    _FileSpec(
        "offices",
        Office,
        booleans=frozenset({"active", "four_eyes"}),
        optional=frozenset({"four_eyes"}),
    ),
    _FileSpec("reviewers", Reviewer, booleans=frozenset({"active"})),
    _FileSpec("persons", Person, dates=frozenset({"date_of_birth"})),
    _FileSpec("accounts", Account),
    _FileSpec("holidays", Holiday, dates=frozenset({"date"})),
)
REGISTRY_FILES = tuple(spec.filename for spec in _SPECS)
"""The file names :func:`read_registry` looks for, in load order."""

MAX_PROBLEMS_PER_FILE = 1000
"""A file with more problems is reported up to here: the list stays readable and bounded."""
MAX_LINE_BYTES = 64 * 1024
"""No row of the registry comes near this: a longer line is no registry row (and is never held whole)."""
"""A file with more problems is reported up to here: the list stays readable and bounded."""

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_BOOLEANS = {"true": True, "false": False}


def read_registry(directory: Path) -> RegistryData:
    """Read and validate every registry file in ``directory``.

    Raises :class:`RegistryLoadError` with every problem found: in headers, in cells, and keys
    repeated within a file. References between kinds (a reviewer's office, an account's person)
    may point at rows already stored, so they are checked when the data is loaded.
    """
    if not directory.is_dir():
        raise NotADirectoryError(directory)
    data = RegistryData()
    problems: list[str] = []
    for spec in _SPECS:
        path = directory / spec.filename
        if not path.is_file():
            continue
        rows, lines = _read_file(path, spec, problems)
        getattr(data, spec.kind).extend(rows)
        data.lines[spec.kind] = lines
    problems += duplicate_problems(data)
    if problems:
        raise RegistryLoadError(problems)
    return data


def _read_file(
    path: Path, spec: _FileSpec, problems: list[str]
) -> tuple[list[BaseModel], list[int]]:
    name = spec.filename
    rows: list[BaseModel] = []
    lines: list[int] = []
    header: list[str] | None = None
    last_line = 0
    reported = len(problems)
    # Streamed: a file of any size is read a row at a time (never whole into memory).
    decoded = _Decoded(path)
    with decoded:
        reader = csv.reader(decoded, strict=True)
        try:
            for cells in reader:
                first_line, last_line = last_line + 1, reader.line_num
                if not any(cell.strip() for cell in cells):
                    continue  # blank lines, and the ",,,," rows spreadsheets leave behind
                if header is None:
                    header = [cell.strip() for cell in cells]
                    header_problems = _header_problems(name, first_line, header, spec)
                    if header_problems:
                        # Rows cannot be read reliably against a wrong header: the header only.
                        problems += header_problems
                        return [], []
                    continue
                row = _read_row(name, first_line, header, cells, spec, problems)
                if row is not None:
                    rows.append(row)
                    lines.append(first_line)
                if len(problems) - reported >= MAX_PROBLEMS_PER_FILE:
                    problems.append(
                        f"{name}:{first_line}: file: more than {MAX_PROBLEMS_PER_FILE} problems;"
                        " reading stopped here"
                    )
                    return [], []
        except UnicodeDecodeError:
            problems.append(
                f"{name}:{decoded.line}: file: is not UTF-8 text (save it as CSV UTF-8)"
            )
            return [], []
        except csv.Error as error:
            problems.append(f"{name}:{reader.line_num}: file: is not valid CSV ({error})")
            return [], []
    if header is None:
        problems.append(f"{name}:1: header: the file is empty; it needs a header row")
    return rows, lines


class _Decoded:
    """The lines of a UTF-8 file (a byte-order mark skipped), decoded one physical line at a time,
    counting them: a byte that is not UTF-8 is reported at its line."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self.line = 0

    def __enter__(self) -> _Decoded:
        self._file = self._path.open("rb")
        return self

    def __exit__(self, *_: object) -> None:
        self._file.close()

    def __iter__(self) -> _Decoded:
        return self

    def __next__(self) -> str:
        raw = self._file.readline(MAX_LINE_BYTES + 1)
        if not raw:
            raise StopIteration
        self.line += 1
        if len(raw) > MAX_LINE_BYTES:
            raise csv.Error(f"a line is longer than {MAX_LINE_BYTES} bytes")
        return raw.decode("utf-8-sig" if self.line == 1 else "utf-8")


def _header_problems(name: str, line: int, header: list[str], spec: _FileSpec) -> list[str]:
    columns = spec.columns
    problems = []
    seen: set[str] = set()
    for position, column in enumerate(header, start=1):
        if not column:
            problems.append(f"{name}:{line}: column {position}: the header cell is empty")
        elif column not in columns:
            expected = ", ".join(columns)
            # By position: a file without its header row has a person's data in line 1, and a
            # problem never quotes a value.
            problems.append(
                f"{name}:{line}: column {position}: unknown column; the columns are {expected}"
            )
        elif column in seen:
            problems.append(f"{name}:{line}: {column}: the column appears twice")
        seen.add(column)
    problems += [
        f"{name}:{line}: {column}: missing column"
        for column in columns
        if column not in seen and column not in spec.optional
    ]
    return problems


def _read_row(
    name: str, line: int, header: list[str], cells: list[str], spec: _FileSpec, problems: list[str]
) -> BaseModel | None:
    if len(cells) != len(header):
        problems.append(
            f"{name}:{line}: row: has {len(cells)} cells where the header has {len(header)}"
        )
        return None
    values: dict[str, object] = {}
    row_problems: dict[str, str] = {}
    for column, cell in zip(header, cells, strict=True):
        text = cell.strip()
        if not text:
            continue  # missing: the model's default, or its "required" rule
        if column in spec.dates:
            if _DATE.fullmatch(text):
                try:
                    values[column] = dt.date.fromisoformat(text)
                    continue
                except ValueError:
                    pass
            row_problems[column] = "must be a date written YYYY-MM-DD"
        elif column in spec.booleans:
            if text in _BOOLEANS:
                values[column] = _BOOLEANS[text]
            else:
                row_problems[column] = "must be true or false"
        else:
            values[column] = text
    row: BaseModel | None = None
    try:
        row = spec.model.model_validate(values)
    except ValidationError as error:
        for item in error.errors():
            column = str(item["loc"][0]) if item["loc"] else "row"
            # A cell already reported is left out of the model, which would call it missing.
            row_problems.setdefault(column, _rule(item))
    # In the order of the file's columns, whatever order pydantic found them in.
    ordered = [column for column in header if column in row_problems]
    ordered += [column for column in row_problems if column not in header]
    problems += [f"{name}:{line}: {column}: {row_problems[column]}" for column in ordered]
    return None if row_problems else row


def _rule(item: Any) -> str:
    if item["type"] == "missing":
        return "a value is required"
    return str(item["msg"]).removeprefix("Value error, ")
