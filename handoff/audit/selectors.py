from django.db.models import QuerySet

from handoff.audit.models import AuditEvent

# The latest changes; the account's History page lists them all.
RECENT_HISTORY = 15


def audit_event_list_for_account(
    *, account_id: int, limit: int | None = RECENT_HISTORY
) -> QuerySet[AuditEvent]:
    """Newest first; actor names are snapshotted on the row, so no join is needed."""
    events = AuditEvent.objects.filter(account_id=account_id).order_by("-created_at", "-id")
    return events if limit is None else events[:limit]


def audit_event_latest_for_object_get(*, obj) -> AuditEvent | None:
    """The latest recorded change of `obj` (who saved it last, and when)."""
    return (
        AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
        .order_by("-created_at", "-id")
        .first()
    )
