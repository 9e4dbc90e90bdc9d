"""The record as data: each contribution's snapshot parts (handoff/registry.py `Part`), in the
record's order.

A manager's sign-off freezes `snapshot_collect(...)` into the SignOff row; the Markdown export
renders the same data taken now, so the download and a signed snapshot read alike.
"""

import hashlib
import json
from typing import Any

from handoff import registry

SNAPSHOT_FORMAT = 1


def json_safe(value: Any, *, where: str) -> Any:
    """A deep copy through JSON: refuses what JSON cannot hold, so nothing in a snapshot can
    change later through a shared reference or a lazy object."""
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise TypeError(f"Snapshot section {where!r} is not JSON-safe: {error}") from error


def snapshot_collect(record, *, taken_at) -> dict:
    """The whole record now (loaded `for_snapshot`): readiness plus every part."""
    if not record.for_snapshot:  # the pages' load holds only the newest notes
        raise ValueError("Load the record with account_record_get(..., for_snapshot=True).")
    return {
        "format": SNAPSHOT_FORMAT,
        "taken_at": taken_at.isoformat(),
        "account_id": record.account.pk,
        "readiness": json_safe(record.readiness.as_data(), where="readiness"),
        "sections": {
            part.key: {
                "title": part.title,
                "order": position,
                "data": json_safe(part.collect(record), where=part.key),
            }
            for position, part in enumerate(registry.snapshot_parts(), start=1)
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
