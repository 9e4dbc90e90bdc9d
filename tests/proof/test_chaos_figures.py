"""The chaos run's figures come from the fake's request log; a wrong count would hide a
failure, so the counting is tested on logs whose answer is known."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chaos.run import fake_figures, sent_inside_a_429_wait
from tests.factories import AccountFactory
from vitally_sync.models import SyncAttempt


def entry(at, path="/resources/accounts/a", status=200, method="PUT", wait=None):
    e = {"at": at, "answered_at": at + 0.1, "method": method, "path": path, "status": status}
    if wait is not None:
        e["wait"] = wait
    return e


def test_a_request_inside_an_announced_wait_is_counted_from_any_account():
    log = [
        entry(10.0, status=429, wait=2),  # its wait runs from 10.1 to 12.1
        entry(10.5, path="/resources/accounts/c"),  # early, but perhaps in flight
        entry(11.5, path="/resources/accounts/b"),  # more than 1 s in: the wait was ignored
        entry(12.5),  # after the wait: fine
        entry(11.6, path="/_fake/requests", method="GET"),  # the script's own reads don't count
    ]
    figures = fake_figures(log)
    assert [e["at"] for e in figures["early"]] == [10.5, 11.5]
    assert [e["at"] for e in figures["ignored"]] == [11.5]
    assert figures["429s"] == 1


def test_retries_are_puts_after_a_failed_put_of_the_same_account():
    log = [
        entry(1.0, status=503),
        entry(2.0, path="/resources/accounts/b"),  # another account: not a retry
        entry(3.0, status="timeout"),  # a retry, failed again
        entry(4.0),  # a retry, acknowledged
        entry(5.0),  # a new change: not a retry
    ]
    figures = fake_figures(log)
    assert (figures["puts"], figures["puts_ok"], figures["retries"]) == (5, 3, 2)
    assert (figures["5xx"], figures["unanswered"]) == (1, 1)
    assert figures["early"] == []


@pytest.mark.django_db
def test_the_must_be_zero_count_is_requests_the_portal_sent_after_it_had_a_429():
    account = AccountFactory()
    t0 = timezone.now()

    def attempt(sent, answered, outcome=SyncAttempt.Outcome.PUSHED, wait=None):
        return SyncAttempt.objects.create(
            account=account,
            change_version=1,
            outcome=outcome,
            at=t0 + timedelta(seconds=sent),
            answered_at=t0 + timedelta(seconds=answered),
            duration_ms=int((answered - sent) * 1000) - 10,  # HTTP only: before the pause
            wait_seconds=wait,
        )

    # Answered over HTTP at 0.29 s, the pause shared by 0.3 s: the window is 0.3 to 2.29.
    attempt(0.0, 0.3, SyncAttempt.Outcome.RATE_LIMITED, wait=2)
    attempt(0.2, 0.5)  # sent before the portal had the 429 (in flight): not counted
    early = attempt(1.0, 1.2)  # sent during the wait: counted
    attempt(2.295, 2.6)  # after the wait (the pause, 0.25 s longer, keeps requests further off)
    assert sent_inside_a_429_wait() == [f"attempt {early.pk} sent at {early.at:%H:%M:%S.%f}"]
