from django.db.models import QuerySet

from handoff.audit.models import AuditEvent


def audit_event_list_for_account(*, account_id: int, limit: int = 50) -> QuerySet[AuditEvent]:
    """Newest first; actor names are snapshotted on the row, so no join is needed."""
    return AuditEvent.objects.filter(account_id=account_id).order_by("-created_at", "-id")[:limit]
