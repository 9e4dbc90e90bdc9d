"""Reads for the handoff: the account with everything the registries need, in a constant
number of queries; sign-offs; reviews; due reminders."""

import datetime
from collections import defaultdict
from functools import cache

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet

from handoff.accounts.columns import dashboard_columns_prepare
from handoff.accounts.models import Account
from handoff.closeout.attention import attention_providers
from handoff.closeout.models import (
    ChecklistItem,
    ChecklistTemplateItem,
    Closeout,
    CompletionReminder,
    HandoffReview,
    SignOff,
)
from handoff.closeout.readiness import readiness_rules
from handoff.closeout.snapshot import snapshot_providers
from handoff.people.selectors import people_attach


def _core_prefetch() -> list[Prefetch]:
    return [
        Prefetch(
            "checklist_items",
            queryset=ChecklistItem.objects.order_by("position", "pk"),
        ),
        # The snapshot JSON is large and only the sign-off page reads it.
        Prefetch(
            "sign_offs",
            queryset=SignOff.objects.defer("snapshot").order_by("-signed_at", "-pk"),
        ),
    ]


def handoff_prefetch_lookups(*, snapshot: bool = True) -> list[str | Prefetch]:
    """Every prefetch the registries asked for, each once (a lookup named twice would make
    Django refuse a second, different queryset). Without `snapshot`, only what readiness and
    attention read: what the pages need."""
    seen: dict[str, str | Prefetch] = {}
    registered = [
        *(p for r in readiness_rules() for p in r.prefetch),
        *(p for a in attention_providers() for p in a.prefetch),
        *(p for s in snapshot_providers() if snapshot for p in s.prefetch),
    ]
    for lookup in [*_core_prefetch(), *registered]:
        key = lookup.prefetch_to if isinstance(lookup, Prefetch) else lookup
        seen.setdefault(key, lookup)
    return list(seen.values())


def account_handoff_queryset(*, snapshot: bool = True) -> QuerySet[Account]:
    # The registered columns' joins too (the Vitally badge shows beside the phase). People
    # are not joined: loaded_relations_attach sets them afterwards from one query.
    return dashboard_columns_prepare(Account.objects.select_related("closeout")).prefetch_related(
        *handoff_prefetch_lookups(snapshot=snapshot)
    )


def account_handoff_get(*, account_id: int, snapshot: bool = True) -> Account:
    """The account as readiness rules, attention providers and snapshot providers read it
    (sign-off, the Markdown export). Raises Account.DoesNotExist."""
    account = account_handoff_queryset(snapshot=snapshot).get(pk=account_id)
    loaded_relations_attach(account)
    return account


def account_page_get(*, account_id: int) -> Account:
    """The account as the account page and the handoff page show it: what readiness and
    attention read, without what only the snapshot reads (every implementation note; the
    notes section asks for the newest few itself). Raises Account.DoesNotExist."""
    return account_handoff_get(account_id=account_id, snapshot=False)


def loaded_relations_attach(account: Account) -> None:
    """Set the foreign keys of the account, its closeout and every prefetched row from what is
    already loaded, instead of joining in each query: the people from one query for all rows,
    and links between loaded rows (a risk's issue, an issue's source risk) from the rows
    themselves. Nested prefetches (an environment's documents) name no one and are skipped."""
    rows: list = [account]
    closeout = closeout_of(account)
    if closeout is not None:
        rows.append(closeout)
    for loaded in getattr(account, "_prefetched_objects_cache", {}).values():
        rows.extend(loaded)
    people_attach(rows)
    by_model: dict[type, dict[int, object]] = defaultdict(dict)
    for row in rows:
        by_model[type(row)][row.pk] = row
    for model, loaded in by_model.items():
        for field in _relation_fields(model):
            targets = by_model.get(field.related_model)
            if not targets:
                continue
            for row in loaded.values():
                target_id = getattr(row, field.attname)
                if target_id is not None and not field.is_cached(row):
                    target = targets.get(target_id)
                    if target is not None:
                        setattr(row, field.name, target)


@cache
def _relation_fields(model: type) -> tuple:
    # By primary key only: loaded rows are found by their id.
    return tuple(
        f for f in model._meta.concrete_fields if f.is_relation and f.target_field.primary_key
    )


def closeout_of(account: Account) -> Closeout | None:
    try:
        return account.closeout
    except Closeout.DoesNotExist:
        return None


def checklist_items_of(account: Account) -> list[ChecklistItem]:
    """Uses the prefetch when the account came from account_handoff_get."""
    return list(account.checklist_items.all())


def latest_sign_off(account: Account) -> SignOff | None:
    """From the prefetch: the newest sign-off, reopened or not."""
    sign_offs = list(account.sign_offs.all())
    return sign_offs[0] if sign_offs else None


def sign_off_get(*, account_id: int, sign_off_id: int) -> SignOff:
    """Scoped to the account in the URL. Raises SignOff.DoesNotExist."""
    return SignOff.objects.select_related("signed_by", "reopened_by", "account").get(
        pk=sign_off_id, account_id=account_id
    )


def checklist_item_get(*, account_id: int, item_id: int) -> ChecklistItem:
    """Scoped to the account in the URL, so an id from another account is not found."""
    return ChecklistItem.objects.select_related("completed_by").get(
        pk=item_id, account_id=account_id
    )


def checklist_template_active() -> QuerySet[ChecklistTemplateItem]:
    return ChecklistTemplateItem.objects.filter(is_active=True).order_by("position", "pk")


def handoff_review_get(*, account_id: int, reviewer_id: int) -> HandoffReview | None:
    return HandoffReview.objects.filter(account_id=account_id, reviewer_id=reviewer_id).first()


def accounts_due_for_completion_reminder(
    *, today: datetime.date, days_before: int
) -> QuerySet[Account]:
    """Not yet handed off, planned completion within `days_before` days (and not past), no
    technical advisor or one who has not acknowledged, and no reminder for that date yet."""
    reminded = CompletionReminder.objects.filter(
        account_id=OuterRef("pk"), planned_completion_date=OuterRef("planned_completion_date")
    )
    return (
        Account.objects.exclude(phase=Account.Phase.HANDED_OFF)
        .filter(
            planned_completion_date__gte=today,
            planned_completion_date__lte=today + datetime.timedelta(days=days_before),
        )
        .filter(
            Q(technical_advisor__isnull=True)
            | Q(closeout__ta_acknowledged_by__isnull=True)
            | ~Q(closeout__ta_acknowledged_by=F("technical_advisor"))
        )
        .exclude(Exists(reminded))
        .order_by("pk")
    )
