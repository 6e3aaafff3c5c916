"""The registry's adapters: the PostgreSQL tables and the CSV files operators load into them.

The registry itself (its rows, the lookups the rules need, the load's checks) is
:mod:`domain.registry`; here are its two ways in and out:

- ``store``: :class:`PostgresRegistry`, the tables, their all-or-nothing loads and lookups;
- ``csv_files``: :func:`read_registry`, the CSV files (README: "Registry data") read into rows.
"""

from activities.registry.csv_files import REGISTRY_FILES, read_registry
from activities.registry.store import (
    LoadReport,
    OfficeSummary,
    PostgresRegistry,
    RegistryStoreError,
    RegistrySummary,
)

__all__ = [
    "REGISTRY_FILES",
    "LoadReport",
    "OfficeSummary",
    "PostgresRegistry",
    "RegistryStoreError",
    "RegistrySummary",
    "read_registry",
]
