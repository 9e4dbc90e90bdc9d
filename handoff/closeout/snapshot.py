"""The record as data: a registry of snapshot providers, one per section of the handoff record.

    register_snapshot_provider("deployments", "Production deployment", deployment_data, order=100)

`fn(account) -> JSON-safe data` (dicts, lists, str, int, float, bool, None: dates as ISO
strings, choices as their labels, people as names). The account comes from
`account_handoff_get` (see readiness.py for `prefetch`).

A manager's sign-off freezes `snapshot_collect(...)` into the SignOff row; the Markdown export
renders the same data taken now, so the download and a signed snapshot read alike.
"""

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch

SNAPSHOT_FORMAT = 1


@dataclass(frozen=True)
class SnapshotProvider:
    key: str
    title: str
    collect: Callable[..., Any]
    order: int = 100
    prefetch: tuple[str | Prefetch, ...] = ()


_providers: dict[str, SnapshotProvider] = {}


def register_snapshot_provider(
    key: str,
    title: str,
    fn: Callable[..., Any],
    *,
    order: int = 100,
    prefetch: Sequence[str | Prefetch] = (),
) -> None:
    _providers[key] = SnapshotProvider(
        key=key, title=title, collect=fn, order=order, prefetch=tuple(prefetch)
    )


def unregister_snapshot_provider(key: str) -> None:
    _providers.pop(key, None)


def snapshot_providers() -> list[SnapshotProvider]:
    return sorted(_providers.values(), key=lambda p: (p.order, p.key))


def json_safe(value: Any, *, where: str) -> Any:
    """A deep copy through JSON: refuses what JSON cannot hold, so nothing in a snapshot can
    change later through a shared reference or a lazy object."""
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise TypeError(f"Snapshot section {where!r} is not JSON-safe: {error}") from error


def snapshot_collect(account, *, readiness: dict, taken_at) -> dict:
    """The whole record now: readiness plus every provider's section."""
    return {
        "format": SNAPSHOT_FORMAT,
        "taken_at": taken_at.isoformat(),
        "account_id": account.pk,
        "readiness": json_safe(readiness, where="readiness"),
        "sections": {
            p.key: {
                "title": p.title,
                "order": p.order,
                "data": json_safe(p.collect(account), where=p.key),
            }
            for p in snapshot_providers()
        },
    }


def snapshot_sections(snapshot: dict) -> list[tuple[str, str, Any]]:
    """(key, title, data) in display order (jsonb does not keep key order, so `order` does)."""
    sections = snapshot.get("sections", {})
    ordered = sorted(sections.items(), key=lambda kv: (kv[1].get("order", 100), kv[0]))
    return [(key, s.get("title", key), s.get("data")) for key, s in ordered]


def snapshot_digest(snapshot: dict) -> str:
    """SHA-256 of the canonical JSON: shows whether a stored snapshot is still what was signed."""
    canonical = json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
