"""The mirror of Vitally's accounts: pulls over HTTP against the fake (vitally_sync/mirror.py)."""

import io
import time

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from tests.vitally_sync.conftest import CPU
from vitally_sync.fake import Scripted, _now_iso
from vitally_sync.limiter import limiter_get
from vitally_sync.mirror import mirror_pull
from vitally_sync.models import MirrorState, VitallyAccount, VitallyKey

pytestmark = pytest.mark.django_db


def seed(fake, count: int) -> None:
    """`count` accounts, changed a second apart over the last hours (as in a real tenant: a
    loop creates a hundred in one millisecond, which no incremental pull can tell apart)."""
    start = time.time() - count - 60
    for number in range(count):
        account = fake.account_create(
            external_id=f"ext-{number:04d}",
            name=f"Customer {number:04d}",
            traits={CPU: number, "vitally.custom.notMapped": "x"},
        )
        account["updatedAt"] = _now_iso(start + number)


@pytest.fixture
def vitally(fake_vitally, settings):
    settings.VITALLY_MIRROR_SHARE = 1.0
    seed(fake_vitally, 1000)
    return fake_vitally


def pages(fake) -> list[dict]:
    return fake.requests_log(method="GET", path_prefix="/resources/accounts")


def test_a_full_pull_reads_a_thousand_accounts_in_ten_pages_of_a_hundred(vitally):
    report = mirror_pull(full=True)
    assert report.completed and report.pages == 10 and report.saved == 1000, report
    gets = pages(vitally)
    assert len(gets) == 10 and all(g["query"]["limit"] == "100" for g in gets)
    assert "from" not in gets[0]["query"] and all("from" in g["query"] for g in gets[1:])
    assert VitallyAccount.objects.count() == 1000
    row = VitallyAccount.objects.get(external_id="ext-0042")
    assert row.name == "Customer 0042"
    assert row.traits == {CPU: 42}  # the mapped traits only
    assert row.vitally_id == vitally.account_get("ext-0042")["id"]
    state = MirrorState.objects.get()
    assert state.watermark is not None and state.last_full_at is not None
    assert state.pass_started_at is None and state.pass_cursor == ""


def test_an_incremental_pull_fetches_only_what_changed(vitally):
    assert mirror_pull(full=True).completed
    before = len(pages(vitally))
    vitally.hand_edit("ext-0007", {CPU: 700})
    vitally.hand_edit("ext-0500", {CPU: 5000})
    vitally.account_create(external_id="ext-new", name="Newcomer Inc")
    report = mirror_pull()
    assert report.completed and not report.full
    assert len(pages(vitally)) - before == 1  # one page, not ten
    # The changed ones, and the one of the watermark's own millisecond again: none older.
    assert report.saved == 4, report
    assert VitallyAccount.objects.get(external_id="ext-0007").traits == {CPU: 700}
    assert VitallyAccount.objects.get(external_id="ext-0500").traits == {CPU: 5000}
    assert VitallyAccount.objects.filter(name="Newcomer Inc").exists()
    assert VitallyAccount.objects.count() == 1001


def test_a_lost_answer_and_a_429_mid_pull_are_read_again_from_the_same_cursor(vitally):
    def fault(report):
        if report.pages == 3:
            vitally.lose_answer_next = 1  # page 4 is answered into the void
        if report.pages == 6:
            vitally.rate_limit_retry_after = 1.0
            vitally.rate_limit_next = 1  # page 7: 429, wait 1 s

    report = mirror_pull(full=True, progress=fault)
    assert report.completed and report.pages == 10, report
    assert report.retries == 1 and report.rate_limited == 1
    assert VitallyAccount.objects.count() == 1000
    gets = pages(vitally)
    statuses = [g["status"] for g in gets]
    assert statuses.count("lost") == 1 and statuses.count(429) == 1 and len(gets) == 12
    lost = statuses.index("lost")
    assert gets[lost + 1]["query"]["from"] == gets[lost]["query"]["from"]
    limited = statuses.index(429)
    assert gets[limited + 1]["query"]["from"] == gets[limited]["query"]["from"]
    assert gets[limited + 1]["at"] - gets[limited]["at"] >= 1.0
    assert not vitally.early_requests()  # nothing sent inside the announced wait


def test_a_pass_stopped_by_a_long_429_resumes_at_its_cursor_in_the_next_run(vitally, settings):
    def fault(report):
        if report.pages == 4:
            vitally.rate_limit_retry_after = 30.0
            vitally.rate_limit_next = 1

    first = mirror_pull(full=True, wait_pauses=False, progress=fault)
    assert not first.completed and first.pages == 4 and "429" in first.stopped
    state = MirrorState.objects.get()
    assert state.pass_cursor and state.last_error
    # 30 s later: the wait is over (the fake's, the key's durable copy, the limiter's).
    vitally._rate_limit_until = 0.0
    VitallyKey.objects.update(paused_until=None)
    limiter_get(settings.REDIS_URL).reset()
    second = mirror_pull()  # an incremental ask goes on with the full pass under way
    assert second.completed and second.full and second.pages == 6, second
    ok = [g for g in pages(vitally) if g["status"] == 200]
    assert len(ok) == 10
    assert ok[4]["query"]["from"] == state.pass_cursor
    assert VitallyAccount.objects.count() == 1000


def test_a_full_pass_removes_the_accounts_vitally_no_longer_lists(vitally):
    assert mirror_pull(full=True).completed
    gone = vitally.account_get("ext-0001")["id"]
    with vitally.lock:
        del vitally.accounts[gone]
    assert mirror_pull().completed  # incremental: cannot know
    assert VitallyAccount.objects.filter(pk=gone).exists()
    report = mirror_pull(full=True)
    assert report.removed == 1 and not VitallyAccount.objects.filter(pk=gone).exists()


def test_a_refused_page_stops_the_pull_and_the_import_page_says_why(vitally, client, manager):
    vitally.script(Scripted(400, body={"error": "bad"}, methods=("GET",)))
    report = mirror_pull(full=True)
    assert not report.completed and "HTTP 400" in report.stopped
    assert MirrorState.objects.get().last_error == report.stopped
    client.force_login(manager)
    html = client.get(reverse("vitally_sync:import")).content.decode()
    assert "The last pull from Vitally did not complete" in html and "HTTP 400" in html
    assert mirror_pull(full=True).completed  # a pass that completes clears it
    html = client.get(reverse("vitally_sync:import")).content.decode()
    assert "did not complete" not in html


def test_the_command_pulls_with_progress_on_stderr(vitally):
    out, err = io.StringIO(), io.StringIO()
    call_command("vitally_accounts_pull", "--full", stdout=out, stderr=err)
    assert "10 pages, 1000 saved; complete" in out.getvalue()
    assert "page 10, 1000 saved" in err.getvalue()


def test_the_command_refuses_when_the_sync_is_not_configured(settings):
    settings.VITALLY_BASE_URL = ""
    with pytest.raises(CommandError, match="not configured"):
        call_command("vitally_accounts_pull")


def test_the_import_page_says_how_current_the_mirror_is(vitally, client, manager, settings):
    """Rows written before any pass completed (seed_demo) are dated as seen, not called
    'not pulled yet' above a list of them."""
    client.force_login(manager)
    settings.VITALLY_MIRROR_SECONDS = 300
    html = client.get(reverse("vitally_sync:import")).content.decode()
    assert "have not been pulled yet: the first pull runs within 5 minutes" in html
    now = timezone.now()
    VitallyAccount.objects.create(
        vitally_id="v-1", name="Hooli", vitally_updated_at=now, last_seen_at=now
    )
    html = client.get(reverse("vitally_sync:import")).content.decode()
    assert "As Vitally's accounts were last seen" in html and "not been pulled" not in html
    assert "no pull from Vitally has completed yet (it runs every 5 minutes)" in html
    assert mirror_pull(full=True).completed
    html = client.get(reverse("vitally_sync:import")).content.decode()
    assert "As of the last pull from Vitally" in html and "pulled every 5 minutes" in html
    settings.VITALLY_BASE_URL = ""
    html = client.get(reverse("vitally_sync:import")).content.decode()
    assert "The Vitally sync is not configured: nothing is pulled from Vitally." in html
