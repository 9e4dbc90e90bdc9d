"""Numbers about the Vitally sync for /metrics (Prometheus).

Requests per outcome are counted in PostgreSQL (RequestCount), not in the memory of the worker
that sent them: SyncAttempt rows are pruned to the latest few per account, so a count of them
falls, and a Prometheus counter must only rise."""

from django.db.models import F

from vitally_sync.models import RequestCount, SyncAttempt

OUTCOMES = tuple(SyncAttempt.Outcome.values)


def request_count_add(outcome: str) -> None:
    """Count one request to Vitally that ended with `outcome` (a SyncAttempt.Outcome value).
    Called where attempts are recorded (services._record_attempt).

    `count = count + 1` in the database (F()), so workers adding at once never lose one; the
    first request of an outcome creates its row (a concurrent creator's row is kept, and both
    add). Every request updates the same row, which stays locked until the caller commits:
    call it in autocommit or a short transaction, never around a request to Vitally."""
    if outcome not in OUTCOMES:
        raise ValueError(f"Unknown request outcome {outcome!r}; expected one of {OUTCOMES}.")
    if RequestCount.objects.filter(outcome=outcome).update(count=F("count") + 1):
        return
    RequestCount.objects.bulk_create([RequestCount(outcome=outcome)], ignore_conflicts=True)
    RequestCount.objects.filter(outcome=outcome).update(count=F("count") + 1)
