"""Celery tasks: ids in, no countdowns (waits live in AccountSync.next_attempt_at)."""

from celery import shared_task
from django.conf import settings

from vitally_sync.conf import sync_config
from vitally_sync.reconcile import reconcile_pass
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


@shared_task(name="vitally_sync.reconcile", ignore_result=True)
def reconcile() -> str:
    """Beat, every VITALLY_RECONCILE_RUN_SECONDS: read back the accounts due (not read for
    VITALLY_RECONCILE_SECONDS), paced to VITALLY_RECONCILE_SHARE of the rate limit, and stop
    before the next run; the least recently read go first, so a long pass runs in chunks."""
    config = sync_config()
    if config.reconcile_seconds <= 0:
        return "Reconcile: off (VITALLY_RECONCILE_SECONDS=0)."
    run = min(config.reconcile_seconds, settings.VITALLY_RECONCILE_RUN_SECONDS)
    return str(reconcile_pass(config=config, budget=max(1.0, run * 0.75)))


@shared_task(name="vitally_sync.account_read_back", ignore_result=True)
def account_read_back(account_id: int) -> str:
    """ "Read Vitally back now": this account's sent notes, then its traits, whether due or
    not, within the reconcile's share, limiter and gates (a 429 or a refused key stops it as it
    stops a scheduled run). The traits go last: when the panel's "Last read back" moves, the
    notes were read too."""
    from vitally_sync.models import NoteSync
    from vitally_sync.note_reconcile import notes_read_back as read_notes

    config = sync_config()
    budget = max(1.0, settings.VITALLY_RECONCILE_RUN_SECONDS * 0.75)
    note_ids = list(NoteSync.objects.filter(account_id=account_id).values_list("pk", flat=True))
    notes = read_notes(config=config, note_ids=note_ids, due_only=False, budget=budget)
    if notes.stopped:
        return f"Read back of account {account_id} stopped: {notes}"
    traits = reconcile_pass(config=config, account_ids=[account_id], due_only=False, budget=budget)
    return f"{traits} {notes}"


# --- Notes (issue 16, item 4) --------------------------------------------------------------------
@shared_task(name="vitally_sync.note_push", ignore_result=True)
def note_push(external_id: str) -> str:
    """Kicked on commit after a note changed: the fast path, best effort."""
    from vitally_sync.notes import note_push as push

    return push(external_id=external_id).outcome.value


@shared_task(name="vitally_sync.notes_sweep", ignore_result=True)
def notes_sweep() -> str:
    """Beat, every VITALLY_SWEEP_SECONDS: every due note (the guarantee)."""
    from vitally_sync.notes import notes_sweep as sweep_notes

    return str(sweep_notes(budget=max(1.0, sync_config().sweep_seconds * 0.8)))


@shared_task(name="vitally_sync.notes_read_back", ignore_result=True)
def notes_read_back() -> str:
    """Beat, as the reconcile: read back the sent notes due (not read for
    VITALLY_RECONCILE_SECONDS), within the reconcile's share of the rate limit, least recently
    read first, stopping before the next run."""
    from vitally_sync.note_reconcile import notes_read_back as read_back

    config = sync_config()
    if config.reconcile_seconds <= 0:
        return "Notes read back: off (VITALLY_RECONCILE_SECONDS=0)."
    run = min(config.reconcile_seconds, settings.VITALLY_RECONCILE_RUN_SECONDS)
    return str(read_back(config=config, budget=max(1.0, run * 0.75)))


# --- the accounts mirror (vitally_sync/mirror.py) ----------------------------------------------
@shared_task(name="vitally_sync.mirror_pull", ignore_result=True)
def mirror_pull() -> str:
    """Beat, every VITALLY_MIRROR_SECONDS: pull what changed in Vitally's accounts (a full pass
    once per VITALLY_MIRROR_FULL_SECONDS), stopping before the next run; a pass cut short
    resumes from its cursor."""
    from vitally_sync.mirror import mirror_pull_scheduled

    return str(mirror_pull_scheduled(budget=max(1.0, settings.VITALLY_MIRROR_SECONDS * 0.8)))
