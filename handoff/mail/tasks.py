from celery import shared_task

from handoff.mail.services import emails_send_due


@shared_task(name="mail.emails_send_due")
def emails_send_due_task() -> int:
    """Beat, every EMAIL_RETRY_SECONDS: retry the e-mails that could not be sent."""
    return emails_send_due()
