"""'Changes since your last review', built on the audit trail: every audit event of the account
after the review's own event, by someone other than the reviewer, grouped per record and
coalesced per field (first before → last after; a field changed and changed back drops out)."""

from dataclasses import dataclass, field

from django.apps import apps

from handoff.audit.models import AuditEvent
from handoff.closeout.models import HandoffReview

# Bookkeeping, not changes to the record: reviews and reminders.
_NOT_CHANGES = ("closeout.handoffreview", "closeout.completionreminder")
MAX_EVENTS = 500  # a page, not an archive: History and the admin hold the rest


@dataclass
class FieldChange:
    label: str
    before: object
    after: object


@dataclass
class ChangeGroup:
    kind: str  # "Added", "Changed" or "Removed"
    type_label: str  # e.g. "Account", "Checklist item", "Issue"
    name: str
    fields: list[FieldChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    actors: list[str] = field(default_factory=list)
    first_at: object = None
    last_at: object = None


@dataclass
class ChangesSinceReview:
    review: HandoffReview
    groups: list[ChangeGroup]
    event_count: int
    truncated: bool


def _type_label(object_type: str) -> str:
    try:
        name = str(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        name = object_type.rsplit(".", 1)[-1]
    return name[:1].upper() + name[1:]


def changes_since_review(*, account_id: int, review: HandoffReview) -> ChangesSinceReview:
    """One query, whatever the number of changes (up to MAX_EVENTS)."""
    events = list(
        AuditEvent.objects.filter(account_id=account_id, pk__gt=review.through_event_id)
        .exclude(actor_id=review.reviewer_id)
        .exclude(object_type__in=_NOT_CHANGES)
        .order_by("pk")[: MAX_EVENTS + 1]
    )
    truncated = len(events) > MAX_EVENTS
    events = events[:MAX_EVENTS]
    groups: dict[tuple[str, str], ChangeGroup] = {}
    coalesced: dict[tuple[str, str], dict[str, FieldChange]] = {}
    for event in events:
        key = (event.object_type, event.object_id)
        group = groups.get(key)
        if group is None:
            group = groups[key] = ChangeGroup(
                kind="Changed",
                type_label=_type_label(event.object_type),
                name=event.object_repr,
                first_at=event.created_at,
            )
            coalesced[key] = {}
        group.name = event.object_repr  # the latest name
        group.last_at = event.created_at
        name = event.actor_name or "System"
        if name not in group.actors:
            group.actors.append(name)
        if event.action == AuditEvent.Kind.CREATE:
            group.kind = "Added"
        elif event.action == AuditEvent.Kind.DELETE:
            group.kind = "Removed"
        if event.message and event.message not in group.notes:
            group.notes.append(event.message)
        fields = coalesced[key]
        for change in event.changes:
            existing = fields.get(change["field"])
            if existing is None:
                fields[change["field"]] = FieldChange(
                    label=change["label"], before=change["before"], after=change["after"]
                )
            else:
                existing.after = change["after"]
    result = []
    for key, group in groups.items():
        group.fields = [f for f in coalesced[key].values() if f.before != f.after]
        if group.kind == "Changed" and not group.fields and not group.notes:
            continue  # changed and changed back
        result.append(group)
    return ChangesSinceReview(
        review=review, groups=result, event_count=len(events), truncated=truncated
    )
