"""The database's domain state as one comparable value: row counts and a hash of the rows.

A refused request must leave it equal. Users are left out on purpose: signing in touches
`last_login`, which is not an effect of the request under test."""

import hashlib
from dataclasses import dataclass

from django.apps import apps

# Every app whose rows a form or action of the portal can write.
DOMAIN_APPS = ("common", "accounts", "deployments", "logs", "closeout", "audit", "vitally_sync")


@dataclass(frozen=True)
class TableState:
    rows: int
    digest: str


def db_snapshot() -> dict[str, TableState]:
    state = {}
    for label in DOMAIN_APPS:
        for model in apps.get_app_config(label).get_models():
            rows = list(model.objects.order_by("pk").values_list())
            digest = hashlib.sha256(repr(rows).encode()).hexdigest()
            state[model._meta.label] = TableState(rows=len(rows), digest=digest)
    return state


def snapshot_diff(before: dict[str, TableState], after: dict[str, TableState]) -> list[str]:
    """The tables that changed, e.g. ["logs.Issue: 3 -> 4 rows"], empty when none did."""
    return [
        f"{name}: {before[name].rows} -> {after[name].rows} rows"
        + ("" if before[name].rows != after[name].rows else " (rows changed)")
        for name in before
        if before[name] != after[name]
    ]
