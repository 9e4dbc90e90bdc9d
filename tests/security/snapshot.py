"""The database's state as one comparable value: row counts and a hash of the rows.

A refused request must leave it equal. By default it covers the domain apps, which the portal's
forms write. The admin also writes people, groups and permissions, and an admin LogEntry for
every save, so its cases take ADMIN_APPS. A user's `last_login` is left out: signing in touches
it, which is not an effect of the request under test. So is `updated_at`, the time of the last
save, which a save whose forged fields were all ignored still touches."""

import hashlib
from dataclasses import dataclass

from django.apps import apps

# Every app whose rows a form or action of the portal can write.
DOMAIN_APPS = (
    "common",
    "mail",
    "accounts",
    "deployments",
    "logs",
    "closeout",
    "audit",
    "vitally_sync",
)
# ... and what the Django admin can write besides: users and their roles, groups, permissions
# (with the many-to-many rows between them) and the admin's own log of changes.
ADMIN_APPS = (*DOMAIN_APPS, "people", "auth", "admin")
IGNORED_COLUMNS = {"people.User": {"last_login", "updated_at"}}


@dataclass(frozen=True)
class TableState:
    rows: int
    digest: str


def db_snapshot(app_labels: tuple[str, ...] = DOMAIN_APPS) -> dict[str, TableState]:
    state = {}
    for label in app_labels:
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            ignored = IGNORED_COLUMNS.get(model._meta.label, set())
            columns = [f.attname for f in model._meta.concrete_fields if f.name not in ignored]
            rows = list(model._default_manager.order_by("pk").values_list(*columns))
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
