"""The daily "Update requested" digest: one e-mail per owner of stale items, nothing else."""

import datetime
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from handoff.celery import app
from logs.models import Issue, Risk, StaleDigest
from logs.services import stale_digests_send
from logs.tasks import stale_digests_send_task
from tests.factories import AccountFactory, UserFactory
from tests.logs.factories import IssueFactory, RiskFactory

pytestmark = pytest.mark.django_db


def _stale(model, obj, days: int):
    model.objects.filter(pk=obj.pk).update(
        updated_at=timezone.now() - datetime.timedelta(days=days)
    )
    return obj


@pytest.fixture
def people():
    return {
        "irene": UserFactory(username="irene", first_name="Irene", email="irene@example.com"),
        "tomas": UserFactory(username="tomas", first_name="Tomas", email="tomas@example.com"),
        "fresh": UserFactory(username="fresh", first_name="Freddie", email="fresh@example.com"),
    }


@pytest.fixture
def logs(people):
    acme = AccountFactory(name="Acme Robotics")
    borealis = AccountFactory(name="Borealis Bank")
    irene, tomas, fresh = people["irene"], people["tomas"], people["fresh"]
    return {
        "sync": _stale(
            Issue,
            IssueFactory(
                account=acme, title="GitLab sync failing", severity="critical", owner=irene
            ),
            5,
        ),
        "tls": _stale(
            Issue,
            IssueFactory(account=borealis, title="TLS certificate", severity="low", owner=irene),
            31,
        ),
        "disk": _stale(
            Risk,
            RiskFactory(account=acme, title="Disk fills", likelihood=4, impact=5, owner=irene),
            8,
        ),
        "freeze": RiskFactory(
            account=borealis,
            title="Change freeze",
            owner=tomas,
            next_review_date=timezone.localdate() - datetime.timedelta(days=2),
        ),
        # Not stale: recently updated, done, or not yet due.
        "fresh_issue": IssueFactory(
            account=acme, title="Fresh issue", severity="critical", owner=fresh
        ),
        "done": _stale(
            Issue,
            IssueFactory(
                account=acme, title="Done issue", status="resolved", resolution="x", owner=fresh
            ),
            90,
        ),
        "fresh_risk": _stale(Risk, RiskFactory(account=acme, title="Calm risk", owner=fresh), 3),
        "closed_risk": _stale(
            Risk, RiskFactory(account=acme, title="Closed risk", status="closed", owner=tomas), 90
        ),
    }


@pytest.mark.django_db(transaction=True)  # e-mails go out when the change commits
def test_each_owner_gets_one_digest_listing_their_stale_items(people, logs, mailoutbox, settings):
    settings.PORTAL_BASE_URL = "https://handoff.example.com"
    assert stale_digests_send_task() == 2

    assert sorted(m.to[0] for m in mailoutbox) == ["irene@example.com", "tomas@example.com"]
    irene = next(m for m in mailoutbox if m.to == ["irene@example.com"])
    assert irene.subject == "[Handoff] Update requested: 3 stale items in the Handoff logs"
    body = irene.body
    assert body.startswith("Hello Irene,")
    assert "Update requested" in body
    for item in (logs["sync"], logs["tls"], logs["disk"]):
        assert f"{item.reference} {item.title}" in body
        assert f"https://handoff.example.com{item.get_absolute_url()}" in body
    assert "No update for 5 days; critical issues want one every 3 days." in body
    assert "Risk scored 20 (critical)" in body
    # Grouped by account, in name order.
    assert body.index("Acme Robotics") < body.index("GitLab sync") < body.index("Borealis Bank")
    assert body.index("Borealis Bank") < body.index("TLS certificate")
    for other in ("Change freeze", "Fresh issue", "Done issue", "Calm risk", "Closed risk"):
        assert other not in body

    tomas = next(m for m in mailoutbox if m.to == ["tomas@example.com"])
    assert tomas.subject == "[Handoff] Update requested: 1 stale item in the Handoff logs"
    assert "Change freeze" in tomas.body and "next review date" in tomas.body
    assert "Closed risk" not in tomas.body


def test_nothing_is_sent_when_nothing_is_stale(people, mailoutbox):
    IssueFactory(owner=people["fresh"], severity="critical")
    RiskFactory(owner=people["fresh"], next_review_date=timezone.localdate())
    assert stale_digests_send_task() == 0
    assert mailoutbox == []
    assert not StaleDigest.objects.exists()


@pytest.mark.django_db(transaction=True)  # e-mails go out when the change commits
def test_at_most_one_digest_per_owner_per_day(people, logs, mailoutbox):
    now = timezone.now()
    assert stale_digests_send(now=now) == 2
    assert stale_digests_send(now=now) == 0  # beat ran twice, or the task was redelivered
    assert len(mailoutbox) == 2
    assert StaleDigest.objects.get(recipient=people["irene"]).item_count == 3
    # The next day, still stale: asked again.
    assert stale_digests_send(now=now + datetime.timedelta(days=1)) == 2
    assert len(mailoutbox) == 4


def test_an_inactive_owner_or_one_without_email_gets_nothing(people, mailoutbox):
    gone = UserFactory(username="gone", email="gone@example.com", is_active=False)
    silent = UserFactory(username="silent", email="")
    _stale(Issue, IssueFactory(owner=gone, severity="critical"), 10)
    _stale(Issue, IssueFactory(owner=silent, severity="critical"), 10)
    assert stale_digests_send_task() == 0
    assert mailoutbox == []


def test_the_digest_runs_daily_from_beat():
    entry = app.conf.beat_schedule["logs-stale-digests"]
    assert entry["task"] == "logs.stale_digests_send"
    assert entry["schedule"].hour == {7}
    assert "logs.stale_digests_send" in app.tasks


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_digest_through_the_broker(people, logs, mailoutbox):
    """The beat entry's task name reaches a real Celery worker over Redis and sends the mail
    (the worker runs in this process, so Django's test outbox sees it)."""
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        app.send_task("logs.stale_digests_send")
        deadline = time.monotonic() + 20
        while len(mailoutbox) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    assert sorted(m.to[0] for m in mailoutbox) == ["irene@example.com", "tomas@example.com"]
    assert StaleDigest.objects.count() == 2


@pytest.mark.django_db(transaction=True)  # e-mails go out when the change commits
def test_the_command_sends_todays_digests_now_and_only_once(people, logs, mailoutbox):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("stale_digests_send", stdout=out)
    assert out.getvalue().strip() == "Sent 2 digest e-mails."
    assert len(mailoutbox) == 2
    call_command("stale_digests_send", stdout=out)  # the same day again: nothing more
    assert len(mailoutbox) == 2
