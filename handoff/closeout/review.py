"""'Changes since your last review', built on the audit trail: every audit event of the account
after the review's own event, by someone other than the reviewer, grouped per record and
coalesced per field (first before → last after; a field changed and changed back drops out)."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.apps import apps
from django.db.models import F, OuterRef, QuerySet, Subquery, Window
from django.db.models.functions import RowNumber

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


def _changed_by_others(events: QuerySet[AuditEvent], *, reviewer_id: int):
    return events.exclude(actor_id=reviewer_id).exclude(object_type__in=_NOT_CHANGES)


def changes_since_review(*, account_id: int, review: HandoffReview) -> ChangesSinceReview:
    """One query, whatever the number of changes (up to MAX_EVENTS)."""
    events = list(
        _changed_by_others(
            AuditEvent.objects.filter(account_id=account_id, pk__gt=review.through_event_id),
            reviewer_id=review.reviewer_id,
        ).order_by("pk")[: MAX_EVENTS + 1]
    )
    return _changes_build(review, events)


def changes_since_reviews_list(
    *, reviewer_id: int, account_ids: list[int]
) -> list[ChangesSinceReview]:
    """The changes since the person's review of each of these accounts they have reviewed (My
    work), in the accounts' order: two queries, whatever the number of accounts and changes (up
    to MAX_EVENTS each)."""
    reviews = {
        review.account_id: review
        for review in HandoffReview.objects.filter(
            reviewer_id=reviewer_id, account_id__in=account_ids
        )
    }
    if not reviews:
        return []
    through = HandoffReview.objects.filter(
        reviewer_id=reviewer_id, account_id=OuterRef("account_id")
    ).values("through_event_id")
    events = (
        _changed_by_others(
            AuditEvent.objects.filter(account_id__in=list(reviews), pk__gt=Subquery(through)),
            reviewer_id=reviewer_id,
        )
        .annotate(row=Window(RowNumber(), partition_by=[F("account_id")], order_by=[F("pk").asc()]))
        .filter(row__lte=MAX_EVENTS + 1)
        .order_by("account_id", "pk")
    )
    by_account: dict[int, list[AuditEvent]] = defaultdict(list)
    for event in events:
        by_account[event.account_id].append(event)
    return [_changes_build(reviews[pk], by_account[pk]) for pk in account_ids if pk in reviews]


def _changes_build(review: HandoffReview, events: list[AuditEvent]) -> ChangesSinceReview:
    """The events grouped per record and coalesced per field."""
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
