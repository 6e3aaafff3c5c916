"""The registry in PostgreSQL: all-or-nothing loads and the lookups the identity check uses.

:class:`PostgresRegistry` is an adapter over a ``psycopg_pool.ConnectionPool`` that its owner
creates, opens and closes. Driver errors do not leave it: a load the data makes impossible is a
:class:`RegistryLoadError`, anything else a :class:`RegistryStoreError`. Neither carries row
values (psycopg's messages can quote them, so they are not passed on).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool
from pydantic import BaseModel

from activities.schema import create_schema
from domain.registry import (
    Account,
    Holiday,
    Office,
    Person,
    RegistryData,
    RegistryLoadError,
    Reviewer,
    ReviewerRole,
    duplicate_problems,
    external_office_codes,
    external_person_codes,
    personal_id_problems,
    reference_problems,
)

M = TypeVar("M", bound=BaseModel)

SCHEMA = """
CREATE TABLE IF NOT EXISTS registry_offices (
    office_code   text PRIMARY KEY CHECK (office_code ~ '^[0-9]{2,8}$'),
    name          text NOT NULL,
    province_code text NOT NULL CHECK (province_code ~ '^[0-9]{2}$'),
    review_days   integer NOT NULL DEFAULT 3 CHECK (review_days BETWEEN 1 AND 30),
    active        boolean NOT NULL,
    changed_at    timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE registry_offices ADD COLUMN IF NOT EXISTS four_eyes boolean NOT NULL DEFAULT false;

CREATE TABLE IF NOT EXISTS registry_reviewers (
    reviewer_id text PRIMARY KEY,
    full_name   text NOT NULL,
    office_code text NOT NULL REFERENCES registry_offices (office_code),
    role        text NOT NULL CHECK (role IN ('reviewer', 'supervisor')),
    active      boolean NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS registry_reviewers_office_code ON registry_reviewers (office_code);

CREATE TABLE IF NOT EXISTS registry_persons (
    social_insurance_code        text PRIMARY KEY CHECK (social_insurance_code ~ '^[0-9]{10}$'),
    personal_id_number           text CHECK (personal_id_number ~ '^[0-9]{12}$'),
    full_name                    text NOT NULL,
    date_of_birth                date NOT NULL,
    gender                       text NOT NULL CHECK (gender IN ('male', 'female')),
    household_code               text,
    health_insurance_card_number text
        CHECK (right(health_insurance_card_number, 10) = social_insurance_code),
    changed_at                   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS registry_persons_personal_id_number
    ON registry_persons (personal_id_number);
CREATE INDEX IF NOT EXISTS registry_persons_household_code ON registry_persons (household_code);

CREATE TABLE IF NOT EXISTS registry_accounts (
    social_insurance_code text PRIMARY KEY
        REFERENCES registry_persons (social_insurance_code),
    status                text NOT NULL CHECK (status IN ('active', 'locked', 'pending')),
    phone                 text,
    email                 text,
    changed_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS registry_holidays (
    date       date PRIMARY KEY,
    name       text NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now()
);
"""
"""The registry tables. ``changed_at`` is when a row was last inserted or changed by a load."""

_LOCK_KEY = 0x63_68_69_6C_64_72_65_67  # "childreg": serialises loads and schema creation


class RegistryStoreError(Exception):
    """The registry database failed or refused an operation; the message names the operation."""


@dataclass(frozen=True)
class _Table:
    kind: str
    name: str
    key: str
    model: type[BaseModel]

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.model.model_fields)


_TABLES = (
    _Table("offices", "registry_offices", "office_code", Office),
    _Table("reviewers", "registry_reviewers", "reviewer_id", Reviewer),
    _Table("persons", "registry_persons", "social_insurance_code", Person),
    _Table("accounts", "registry_accounts", "social_insurance_code", Account),
    _Table("holidays", "registry_holidays", "date", Holiday),
)
"""In load order: offices before their reviewers, persons before their accounts."""
TABLE_NAMES = {table.kind: table.name for table in _TABLES}


@dataclass(frozen=True)
class TableCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated)


@dataclass(frozen=True)
class LoadReport:
    """What a load did, per kind of row (``offices``, ``reviewers``, …)."""

    tables: dict[str, TableCounts]

    @property
    def changed(self) -> bool:
        return any(counts.changed for counts in self.tables.values())

    @property
    def total_changed(self) -> int:
        """Rows inserted or updated, over every table."""
        return sum(counts.inserted + counts.updated for counts in self.tables.values())


@dataclass(frozen=True)
class OfficeSummary:
    office_code: str
    name: str
    province_code: str
    review_days: int
    active: bool
    active_reviewers: int
    active_supervisors: int
    four_eyes: bool = False


@dataclass(frozen=True)
class RegistrySummary:
    rows: dict[str, int]
    """Kind → rows stored."""
    offices: list[OfficeSummary]
    holiday_years: dict[int, int]
    """Year → holidays stored for it: a year missing here counts every weekday as a working day."""


class PostgresRegistry:
    """The registry tables (``registry_*``) over a connection pool the caller owns."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def create_schema(self) -> None:
        """Create the tables and indexes that are missing; safe to run again and concurrently."""
        with self._translated("schema creation"):
            create_schema(self._pool, SCHEMA, _LOCK_KEY)

    # --- loading ---------------------------------------------------------------------------------

    def load(self, data: RegistryData) -> LoadReport:
        """Upsert every row of ``data`` in one transaction: all of it or, on any problem, nothing.

        Rows not in ``data`` are kept (deactivate offices and reviewers with ``active=false``).
        Rows equal to the stored ones are not rewritten, so loading the same data twice reports
        them all unchanged. Raises :class:`RegistryLoadError` with every problem found, including
        references to offices and persons that are neither in ``data`` nor stored.
        """
        problems = duplicate_problems(data)
        if problems:
            raise RegistryLoadError(problems)
        with (
            self._translated("load"),
            self._pool.connection() as connection,
            connection.transaction(),
        ):
            # One load at a time: the checks below must still hold when the rows are written.
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            problems = self._problems_against_stored(connection, data)
            if problems:
                raise RegistryLoadError(problems)
            tables = {
                table.kind: self._upsert(connection, table, data.rows(table.kind))
                for table in _TABLES
            }
        return LoadReport(tables=tables)

    def _problems_against_stored(
        self, connection: psycopg.Connection[Any], data: RegistryData
    ) -> list[str]:
        offices = external_office_codes(data)
        stored_offices = self._existing(connection, "registry_offices", "office_code", offices)
        persons = external_person_codes(data)
        stored_persons = self._existing(
            connection, "registry_persons", "social_insurance_code", persons
        )
        problems = reference_problems(data, stored_offices, stored_persons)

        numbers = [p.personal_id_number for p in data.persons if p.personal_id_number is not None]
        holders: dict[str, str] = {}
        if numbers:
            rows = connection.execute(
                "SELECT personal_id_number, social_insurance_code FROM registry_persons"
                " WHERE personal_id_number = ANY(%s)",
                (numbers,),
            ).fetchall()
            holders = {number: code for number, code in rows}
        return problems + personal_id_problems(data, holders)

    @staticmethod
    def _existing(
        connection: psycopg.Connection[Any], table: str, column: str, keys: set[str]
    ) -> set[str]:
        if not keys:
            return set()
        query = sql.SQL("SELECT {column} FROM {table} WHERE {column} = ANY(%s)").format(
            column=sql.Identifier(column), table=sql.Identifier(table)
        )
        return {row[0] for row in connection.execute(query, (list(keys),))}

    @staticmethod
    def _upsert(
        connection: psycopg.Connection[Any], table: _Table, rows: Sequence[BaseModel]
    ) -> TableCounts:
        if not rows:
            return TableCounts()
        names = {
            "table": sql.Identifier(table.name),
            "incoming": sql.Identifier(f"incoming_{table.kind}"),
            "key": sql.Identifier(table.key),
            "columns": sql.SQL(", ").join(map(sql.Identifier, table.columns)),
            "stored_values": _row_of("t", table.columns),
            "incoming_values": _row_of("i", table.columns),
        }
        connection.execute(
            sql.SQL(
                "CREATE TEMP TABLE {incoming} ON COMMIT DROP AS"
                " SELECT {columns} FROM {table} WITH NO DATA"
            ).format(**names)
        )
        with connection.cursor().copy(
            sql.SQL("COPY {incoming} ({columns}) FROM STDIN").format(**names)
        ) as copy:
            for row in rows:
                copy.write_row([_cell(getattr(row, column)) for column in table.columns])

        # Counted before writing: afterwards every row would look unchanged.
        existing, changed = connection.execute(
            sql.SQL(
                "SELECT count(*), count(*) FILTER (WHERE {stored_values} IS DISTINCT FROM {incoming_values})"
                " FROM {incoming} AS i JOIN {table} AS t USING ({key})"
            ).format(**names)
        ).fetchone() or (0, 0)

        if table.kind == "persons":
            # The unique index on personal_id_number is checked row by row: free the numbers
            # that move first, so that two persons may swap numbers in one load.
            connection.execute(
                "UPDATE registry_persons AS t SET personal_id_number = NULL, changed_at = now()"
                " FROM incoming_persons AS i"
                " WHERE t.social_insurance_code = i.social_insurance_code"
                " AND t.personal_id_number IS NOT NULL"
                " AND t.personal_id_number IS DISTINCT FROM i.personal_id_number"
            )

        updates = sql.SQL(", ").join(
            sql.SQL("{column} = EXCLUDED.{column}").format(column=sql.Identifier(column))
            for column in table.columns
            if column != table.key
        )
        connection.execute(
            sql.SQL(
                "INSERT INTO {table} AS t ({columns}) SELECT {columns} FROM {incoming}"
                " ON CONFLICT ({key}) DO UPDATE SET {updates}, changed_at = now()"
                " WHERE {stored_values} IS DISTINCT FROM {excluded_values}"
            ).format(updates=updates, excluded_values=_row_of("excluded", table.columns), **names)
        )
        inserted = len(rows) - existing
        return TableCounts(inserted=inserted, updated=changed, unchanged=existing - changed)

    # --- lookups ---------------------------------------------------------------------------------

    def office(self, code: str) -> Office | None:
        return self._one(Office, "registry_offices", "office_code", code)

    def reviewer(self, reviewer_id: str) -> Reviewer | None:
        return self._one(Reviewer, "registry_reviewers", "reviewer_id", reviewer_id)

    def supervisors(self, office_code: str) -> list[Reviewer]:
        """The office's active supervisors, by reviewer id."""
        query = _select(Reviewer, "registry_reviewers") + sql.SQL(
            " WHERE office_code = %s AND role = %s AND active ORDER BY reviewer_id"
        )
        rows = self._fetch("supervisor lookup", query, (office_code, ReviewerRole.SUPERVISOR.value))
        return [Reviewer.model_validate(row) for row in rows]

    def person_by_code(self, code: str) -> Person | None:
        return self._one(Person, "registry_persons", "social_insurance_code", code)

    def person_by_personal_id(self, number: str) -> Person | None:
        return self._one(Person, "registry_persons", "personal_id_number", number)

    def account(self, code: str) -> Account | None:
        return self._one(Account, "registry_accounts", "social_insurance_code", code)

    def holidays(self, from_date: dt.date, to_date: dt.date) -> set[dt.date]:
        """Holidays from ``from_date`` to ``to_date``, both included."""
        rows = self._fetch(
            "holiday lookup",
            sql.SQL("SELECT date FROM registry_holidays WHERE date BETWEEN %s AND %s"),
            (from_date, to_date),
        )
        return {row["date"] for row in rows}

    def summary(self) -> RegistrySummary:
        """Rows per table, each office with its active reviewers and supervisors, holiday years."""
        counts = sql.SQL(", ").join(
            sql.SQL("(SELECT count(*) FROM {table}) AS {kind}").format(
                table=sql.Identifier(table.name), kind=sql.Identifier(table.kind)
            )
            for table in _TABLES
        )
        (row_counts,) = self._fetch("summary", sql.SQL("SELECT ") + counts, ())
        offices = self._fetch(
            "summary",
            sql.SQL(
                "SELECT o.office_code, o.name, o.province_code, o.review_days, o.active, o.four_eyes,"
                " count(*) FILTER (WHERE r.active AND r.role = 'reviewer') AS active_reviewers,"
                " count(*) FILTER (WHERE r.active AND r.role = 'supervisor') AS active_supervisors"
                " FROM registry_offices AS o LEFT JOIN registry_reviewers AS r USING (office_code)"
                " GROUP BY o.office_code ORDER BY o.office_code"
            ),
            (),
        )
        years = self._fetch(
            "summary",
            sql.SQL(
                "SELECT extract(year FROM date)::integer AS year, count(*) AS holidays"
                " FROM registry_holidays GROUP BY 1 ORDER BY 1"
            ),
            (),
        )
        return RegistrySummary(
            rows={kind: int(count) for kind, count in row_counts.items()},
            offices=[OfficeSummary(**office) for office in offices],
            holiday_years={int(row["year"]): int(row["holidays"]) for row in years},
        )

    def _one(self, model: type[M], table: str, column: str, value: str) -> M | None:
        query = _select(model, table) + sql.SQL(" WHERE {column} = %s").format(
            column=sql.Identifier(column)
        )
        rows = self._fetch(f"{table} lookup", query, (value,))
        return model.model_validate(rows[0]) if rows else None

    def _fetch(
        self, operation: str, query: sql.SQL | sql.Composed, params: Sequence[object]
    ) -> list[dict[str, Any]]:
        with (
            self._translated(operation),
            self._pool.connection() as connection,
            connection.cursor(row_factory=dict_row) as cursor,
        ):
            rows: list[dict[str, Any]] = cursor.execute(query, params).fetchall()
            return rows

    @contextmanager
    def _translated(self, operation: str) -> Iterator[None]:
        try:
            yield
        except psycopg.IntegrityError as error:
            # The checks before writing should make this unreachable; if the database still
            # refuses, say which constraint, never the row (its message quotes the values).
            where = error.diag.table_name or "registry"
            constraint = error.diag.constraint_name or error.sqlstate
            raise RegistryLoadError(
                [f"{where}: {constraint}: the database refused the {operation}"]
            ) from None
        except psycopg.Error as error:
            raise RegistryStoreError(
                f"registry {operation} failed: {type(error).__name__} (SQLSTATE {error.sqlstate})"
            ) from None


def _select(model: type[BaseModel], table: str) -> sql.Composed:
    return sql.SQL("SELECT {columns} FROM {table}").format(
        columns=sql.SQL(", ").join(map(sql.Identifier, model.model_fields)),
        table=sql.Identifier(table),
    )


def _row_of(alias: str, columns: Sequence[str]) -> sql.Composed:
    return sql.SQL("ROW({})").format(
        sql.SQL(", ").join(sql.Identifier(alias, column) for column in columns)
    )


def _cell(value: object) -> object:
    # COPY would write an enum member by its name; the tables hold the values.
    return value.value if isinstance(value, Enum) else value
