import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from handoff.closeout.selectors import account_list_due_for_completion_reminder
from handoff.closeout.services import completion_reminder_send

logger = logging.getLogger(__name__)


@shared_task(name="closeout.completion_reminders_send")
def completion_reminders_send() -> int:
    """Daily (beat): send the planned completion reminders that are due; returns how many.
    Each account has its own transaction: one that fails (say, the mail server refuses) is
    logged and tried again tomorrow, and the others still go out."""
    today = timezone.localdate()
    due = list(
        account_list_due_for_completion_reminder(
            today=today, days_before=settings.HANDOFF_REMINDER_DAYS_BEFORE
        ).values_list("pk", flat=True)
    )
    sent = 0
    for account_id in due:
        try:
            sent += completion_reminder_send(account_id=account_id, today=today)
        except Exception:
            logger.exception("Planned completion reminder failed for account %s", account_id)
    return sent
