"""Celery tasks: ids in, no countdowns (waits live in AccountSync.next_attempt_at)."""

from celery import shared_task

from vitally_sync.conf import sync_config
from vitally_sync.services import sync_account_push, sync_sweep


@shared_task(name="vitally_sync.account_push", ignore_result=True)
def account_push(account_id: int) -> str:
    """Kicked on commit after an account changed: the fast path, best effort."""
    return sync_account_push(account_id=account_id).outcome.value


@shared_task(name="vitally_sync.sweep", ignore_result=True)
def sweep() -> str:
    """Beat, every VITALLY_SWEEP_SECONDS: the guarantee. Pushes whatever is due, and stops
    starting pushes before the next beat so passes do not pile up."""
    return str(sync_sweep(budget=max(1.0, sync_config().sweep_seconds * 0.8)))
