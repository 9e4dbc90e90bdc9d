"""/metrics: the Vitally sync's numbers, read from PostgreSQL at each scrape."""

import threading

import pytest
from django.db import connection

from vitally_sync.metrics import request_count_add
from vitally_sync.models import RequestCount, SyncAttempt
from vitally_sync.services import ATTEMPTS_KEPT


def counts() -> dict[str, int]:
    return dict(RequestCount.objects.values_list("outcome", "count"))


# --- The durable request counter -----------------------------------------------------------------
@pytest.mark.django_db
def test_request_count_add_counts_each_outcome():
    for outcome, times in (("pushed", 3), ("rate_limited", 2), ("transient", 1)):
        for _ in range(times):
            request_count_add(outcome)
    request_count_add(SyncAttempt.Outcome.FAILED)  # what services._record_attempt has in hand

    assert counts() == {"pushed": 3, "rate_limited": 2, "transient": 1, "failed": 1}


@pytest.mark.django_db
def test_request_count_add_refuses_an_unknown_outcome():
    with pytest.raises(ValueError, match="Unknown request outcome"):
        request_count_add("unchanged")  # a push outcome, not a request's
    assert counts() == {}


@pytest.mark.django_db
def test_the_counter_keeps_rising_when_attempts_are_pruned(account):
    """Why the counter exists: SyncAttempt keeps only the latest ATTEMPTS_KEPT per account."""
    for _ in range(ATTEMPTS_KEPT + 5):
        SyncAttempt.objects.create(account=account, change_version=1, outcome="pushed")
        request_count_add("pushed")
    SyncAttempt.objects.filter(
        pk__in=SyncAttempt.objects.order_by("at", "id").values("pk")[:5]
    ).delete()

    assert SyncAttempt.objects.count() == ATTEMPTS_KEPT
    assert counts() == {"pushed": ATTEMPTS_KEPT + 5}


@pytest.mark.django_db(transaction=True)
def test_workers_adding_at_once_lose_no_request():
    """Four threads (four connections) add to a counter whose row does not exist yet: the
    first-row race and the increments lose nothing."""
    threads, per_thread = 4, 25
    start = threading.Barrier(threads)
    errors = []

    def work():
        try:
            start.wait()
            for _ in range(per_thread):
                request_count_add("transient")
        except Exception as error:  # a thread's exception would not fail the test
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    assert counts() == {"transient": threads * per_thread}
