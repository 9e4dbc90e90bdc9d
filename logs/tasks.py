from celery import shared_task

from logs.services import stale_digests_send


@shared_task(name="logs.stale_digests_send")
def stale_digests_send_task() -> int:
    """Daily (beat): one "Update requested" e-mail per owner of stale issues and risks."""
    return stale_digests_send()
