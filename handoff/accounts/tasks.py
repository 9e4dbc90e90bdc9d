from celery import shared_task
from django.core.management import call_command


@shared_task(name="accounts.clear_expired_sessions")
def clear_expired_sessions() -> None:
    """Daily (beat): drop expired sign-in sessions so the session table stays small."""
    call_command("clearsessions")
