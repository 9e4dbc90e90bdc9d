"""Reads for the handoff: sign-offs, checklist items, reviews, due reminders. The account's
whole record is `handoff.record.account_record_get`."""

import datetime

from django.db.models import Exists, F, OuterRef, Q, QuerySet

from handoff.accounts.models import Account
from handoff.closeout.models import (
    ChecklistItem,
    ChecklistTemplateItem,
    CompletionReminder,
    HandoffReview,
    SignOff,
)


def sign_off_latest_get(*, account_id: int) -> SignOff | None:
    """The newest sign-off, reopened or not, without its snapshot."""
    return (
        SignOff.objects.filter(account_id=account_id)
        .defer("snapshot")
        .order_by("-signed_at", "-pk")
        .first()
    )


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


def checklist_template_list() -> QuerySet[ChecklistTemplateItem]:
    return ChecklistTemplateItem.objects.filter(is_active=True).order_by("position", "pk")


def handoff_review_get(*, account_id: int, reviewer_id: int) -> HandoffReview | None:
    return HandoffReview.objects.filter(account_id=account_id, reviewer_id=reviewer_id).first()


def account_list_due_for_completion_reminder(
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
