from typing import Any

from django.db import models

from handoff.audit.models import AuditEvent
from handoff.common.context import request_id_var


def audit_record(
    *,
    actor,
    account,
    obj: models.Model,
    action: str,
    changes: list[dict[str, Any]] | None = None,
    message: str = "",
) -> AuditEvent:
    """Record one write. Call inside the transaction of the write it describes."""
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_name=(actor.get_full_name() or actor.get_username()) if actor is not None else "",
        request_id=request_id_var.get(),
        account=account,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        action=action,
        message=message[:300],
        changes=changes or [],
    )
