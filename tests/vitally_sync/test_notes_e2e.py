"""Notes to Vitally end to end: a real Celery worker on the test database (Redis broker), the
fake Vitally over HTTP, and the sweeper sent as beat would. Timings are read from the fake's
own request log."""

import pytest

from handoff.accounts.services import account_create
from handoff.closeout.services import closeout_reopen
from handoff.common.services import ANY_VERSION
from logs.models import JournalEntry
from logs.services import journal_entry_create, journal_entry_update
from tests.phases import phase_move
from tests.vitally_sync.test_e2e import clean_broker, wait_for, worker  # noqa: F401  (fixture)
from vitally_sync import tasks
from vitally_sync.fake import Scripted
from vitally_sync.models import NoteSync

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def notes_on(settings, fake_vitally):
    settings.VITALLY_NOTES_ENABLED = True
    settings.VITALLY_NOTE_CATEGORIES = ["all"]
    settings.PORTAL_BASE_URL = "https://handoff.example.com"
    return fake_vitally


def linked(fake, actor, name="Acme Robotics", vitally_id="acme-robotics"):
    fake.account_create(external_id=vitally_id, name=name)
    return account_create(actor=actor, name=name, vitally_account_id=vitally_id)


def sent(external_id: str) -> bool:
    row = NoteSync.objects.filter(external_id=external_id).first()
    return row is not None and not row.due


def beat_notes(predicate, timeout: float = 40) -> bool:
    """wait_for with the notes' sweeper as beat sends it."""

    def check() -> bool:
        if predicate():
            return True
        tasks.notes_sweep.delay()
        return False

    return wait_for(check, timeout=timeout)


def test_created_corrected_and_resent_after_a_lost_answer_is_one_note_with_the_latest_text(
    notes_on, manager
):
    fake = notes_on
    account = linked(fake, manager)
    # The note's POST is applied, its answer never arrives.
    fake.lose_answer_path, fake.lose_answer_next = "/resources/notes", 1
    with worker():
        entry = journal_entry_create(
            account=account, author=manager, title="Upper limits", body="First text"
        )
        external_id = f"handoff-note-{entry.pk}"
        assert wait_for(lambda: fake.notes_list(external_id), timeout=20)
        # The answer was lost: the portal does not know the note exists, and says so.
        assert wait_for(lambda: NoteSync.objects.get(external_id=external_id).last_error)
        row = NoteSync.objects.get(external_id=external_id)
        assert row.due and row.inflight_at is not None and not row.vitally_note_id
        for text in ("Second text", "Latest **text**"):  # corrected twice meanwhile
            journal_entry_update(
                entry=entry, actor=manager, data={"body": text}, expected_version=ANY_VERSION
            )
        assert beat_notes(lambda: sent(external_id))
    [note] = fake.notes_list()  # exactly one note, never a second POST's
    assert note["externalId"] == external_id
    assert note["note"] == "<p>Latest <strong>text</strong></p>"
    assert NoteSync.objects.get(external_id=external_id).vitally_note_id == note["id"]
    posts = fake.requests_log(method="POST", path_prefix="/resources/notes")
    assert [p["status"] for p in posts] == ["lost"]  # the lost one; it was found, then PUT
    puts = fake.requests_log(method="PUT", path_prefix="/resources/notes/")
    assert puts and all(p["path"] == f"/resources/notes/{note['id']}" for p in puts)
    assert puts[-1]["body"]["note"] == note["note"]


def test_notes_off_or_a_category_not_sent_sends_nothing(notes_on, manager, settings):
    fake = notes_on
    account = linked(fake, manager)
    settings.VITALLY_NOTE_CATEGORIES = ["upper_limits"]
    with worker():
        journal_entry_create(
            account=account,
            author=manager,
            title="Lunch",
            body="General chat",
            category=JournalEntry.Category.GENERAL,
        )
        settings.VITALLY_NOTES_ENABLED = False
        journal_entry_create(
            account=account,
            author=manager,
            title="Limits",
            body="1,200 users",
            category=JournalEntry.Category.UPPER_LIMITS,
        )
        settings.VITALLY_NOTES_ENABLED = True
        sent_one = journal_entry_create(
            account=account,
            author=manager,
            title="Limits again",
            body="1,500 users",
            category=JournalEntry.Category.UPPER_LIMITS,
        )
        assert beat_notes(lambda: sent(f"handoff-note-{sent_one.pk}"))
    assert [n["subject"] for n in fake.notes_list()] == ["Limits again"]


def test_sign_off_sends_a_handoff_signed_off_note_with_the_snapshot_link(notes_on, manager):
    fake = notes_on
    account = linked(fake, manager)
    with worker():
        phase_move(account=account, actor=manager, to="handed_off")
        sign_off = account.sign_offs.get()
        assert beat_notes(lambda: sent(f"handoff-signoff-{sign_off.pk}"))
    [note] = fake.notes_list()
    assert note["subject"] == "Handoff signed off"
    assert note["accountId"] == fake.account_get("acme-robotics")["id"]
    assert f"Readiness: {sign_off.readiness_percent}%" in note["note"]
    assert "Why: Signed off by a test." in note["note"]
    link = f"https://handoff.example.com/accounts/{account.pk}/"
    assert link in note["note"] and str(sign_off.pk) in note["note"]


def test_a_reopened_sign_off_updates_its_note_in_vitally(notes_on, manager):
    fake = notes_on
    account = linked(fake, manager)
    with worker():
        phase_move(account=account, actor=manager, to="handed_off")
        sign_off = account.sign_offs.get()
        external_id = f"handoff-signoff-{sign_off.pk}"
        assert beat_notes(lambda: sent(external_id))
        closeout_reopen(account=account, actor=manager, reason="SSO broke after the upgrade")
        assert beat_notes(lambda: sent(external_id))
    [note] = fake.notes_list()  # the same note, corrected: not a second one
    assert note["subject"] == "Handoff signed off, then reopened"
    assert "SSO broke after the upgrade" in note["note"]
    assert f"Readiness: {sign_off.readiness_percent}%" in note["note"]  # the sign-off stays


def test_a_429_is_waited_out_before_the_note_is_sent_again(notes_on, manager):
    fake = notes_on
    account = linked(fake, manager)
    fake.script(Scripted(429, {"Retry-After": "2"}, methods=("POST",)))
    with worker():
        entry = journal_entry_create(account=account, author=manager, title="Limits", body="x")
        assert beat_notes(lambda: sent(f"handoff-note-{entry.pk}"))
    first, second = fake.requests_log(method="POST", path_prefix="/resources/notes")
    assert first["status"] == 429 and second["status"] == 200
    assert second["at"] >= first["answered_at"] + 2.0  # nobody sent inside the wait
    later = [e for e in fake.arrivals if e["at"] > first["at"]]
    assert all(e["at"] >= first["answered_at"] + 2.0 for e in later)
    assert len(fake.notes_list()) == 1
