"""Notes to Vitally end to end: a real Celery worker on the test database (Redis broker), the
fake Vitally over HTTP, and the sweeper sent as beat would. Timings are read from the fake's
own request log."""

import time

import pytest
import requests
from django.urls import reverse

from handoff.accounts.services import account_create
from handoff.closeout.services import closeout_reopen
from handoff.common.services import ANY_VERSION
from logs.models import JournalEntry
from logs.services import journal_entry_create, journal_entry_update
from tests.phases import phase_move
from tests.vitally_sync.test_e2e import clean_broker, wait_for, worker  # noqa: F401  (fixture)
from vitally_sync import tasks
from vitally_sync.conf import sync_config
from vitally_sync.fake import Scripted
from vitally_sync.models import AccountSync, NoteSync

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
        closeout_reopen(account=account, actor=manager, reason="SSO broke after the upgrade.")
        assert beat_notes(lambda: sent(external_id))
    [note] = fake.notes_list()  # the same note, corrected: not a second one
    assert note["subject"] == "Handoff signed off, then reopened"
    assert "SSO broke after the upgrade. The account is back" in note["note"]  # one full stop
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


# --- read back (note_reconcile.py) and a person's choice (note_differences.py) ------------------
def read_back(predicate, timeout: float = 30) -> bool:
    """wait_for with the notes' read back as beat sends it."""

    def check() -> bool:
        if predicate():
            return True
        tasks.notes_read_back.delay()
        return False

    return wait_for(check, timeout=timeout)


def quiet_for(seconds: float) -> None:
    """Beat goes on sending sweeps and reads: what is held must stay held meanwhile."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        tasks.notes_sweep.delay()
        tasks.notes_read_back.delay()
        time.sleep(0.25)


def note_row(external_id: str) -> NoteSync:
    return NoteSync.objects.get(external_id=external_id)


def choose(client, account, row: NoteSync, what: str):
    url = reverse(f"vitally_sync:note_{what}", args=[account.pk, row.pk])
    return client.post(url, {"version": row.read_version})


@pytest.fixture
def reading(notes_on, settings):
    settings.VITALLY_RECONCILE_SECONDS = 0.01  # every sent note is due for a read at once
    return notes_on


def test_a_hand_edit_is_read_back_and_holds_a_correction_until_the_portals_text_is_sent(
    reading, manager, client
):
    fake = reading
    account = linked(fake, manager)
    client.force_login(manager)
    with worker():
        entry = journal_entry_create(
            account=account, author=manager, title="Upper limits", body="1,200 users"
        )
        external_id = f"handoff-note-{entry.pk}"
        assert beat_notes(lambda: sent(external_id))
        note_id = note_row(external_id).vitally_note_id
        # Someone edits the note in Vitally's UI (the fake's hand edit, over HTTP).
        edited = requests.post(
            f"{fake.url}/_fake/notes/{note_id}/edit", json={"note": "<p>900 users</p>"}, timeout=5
        )
        assert edited.status_code == 200
        assert read_back(lambda: note_row(external_id).in_vitally == "changed")
        page = client.get(reverse("vitally_sync:panel", args=[account.pk])).content.decode()
        assert "Changed in Vitally" in page and "<p>900 users</p>" in page

        journal_entry_update(
            entry=entry, actor=manager, data={"body": "1,500 users"}, expected_version=ANY_VERSION
        )
        journal_entry_update(
            entry=entry, actor=manager, data={"body": "1,600 users"}, expected_version=ANY_VERSION
        )
        quiet_for(2.0)
        assert not fake.requests_log(method="PUT", path_prefix="/resources/notes/")
        [note] = fake.notes_list()
        assert note["note"] == "<p>900 users</p>"  # as the person in Vitally left it
        assert note_row(external_id).due

        assert choose(client, account, note_row(external_id), "send").status_code == 302
        assert beat_notes(lambda: sent(external_id))
        quiet_for(1.0)  # later reads agree: nothing flips back
    [note] = fake.notes_list()  # exactly one note, with the portal's latest text
    assert note["note"] == "<p>1,600 users</p>" and not note["archivedAt"]
    row = note_row(external_id)
    assert not row.held and row.in_vitally in ("", "agrees") and row.vitally_note_id == note["id"]
    assert len(fake.requests_log(method="POST", path_prefix="/resources/notes")) == 1
    puts = fake.requests_log(method="PUT", path_prefix="/resources/notes/")
    assert [p["body"]["note"] for p in puts] == ["<p>1,600 users</p>"]


def test_an_archived_note_is_not_created_again_until_someone_chooses(reading, manager, client):
    fake = reading
    account = linked(fake, manager)
    client.force_login(manager)
    with worker():
        entry = journal_entry_create(account=account, author=manager, title="Limits", body="One")
        external_id = f"handoff-note-{entry.pk}"
        assert beat_notes(lambda: sent(external_id))
        note_id = note_row(external_id).vitally_note_id
        assert requests.post(f"{fake.url}/_fake/notes/{note_id}/archive", timeout=5).ok
        assert read_back(lambda: note_row(external_id).in_vitally == "archived")
        journal_entry_update(
            entry=entry, actor=manager, data={"body": "Two"}, expected_version=ANY_VERSION
        )
        quiet_for(2.0)
        [archived] = fake.notes_list()
        assert archived["archivedAt"] and archived["note"] == "<p>One</p>"
        assert len(_note_writes(fake)) == 1  # the first POST: nothing sent into it, or again

        assert choose(client, account, note_row(external_id), "send").status_code == 302
        assert beat_notes(lambda: sent(external_id))
    visible = [n for n in fake.notes_list() if not n["archivedAt"]]
    assert [n["note"] for n in visible] == ["<p>Two</p>"]
    assert visible[0]["externalId"] == f"{external_id}-2"
    assert len(fake.notes_list()) == 2  # the archived one stays as its person left it


def _note_writes(fake) -> list[dict]:
    return [
        e
        for e in fake.requests_log(path_prefix="/resources/notes")
        if e["method"] in ("PUT", "POST")
    ]


class _PushDuringRead:
    """A correction is made and the worker pushes it while the read is under way: before its
    GET reaches Vitally (the GET sees the new text, the read began with the old one sent), or
    after (the GET saw the old text, the portal has sent the new one by the comparison)."""

    def __init__(self, client, during, *, when: str):
        self.client, self.during, self.when = client, during, when

    def request(self, method, path, **kwargs):
        reading = method == "GET" and path.startswith("/resources/notes/")
        if reading and self.when == "before":
            self.during()
        result = self.client.request(method, path, **kwargs)
        if reading and self.when == "after":
            self.during()
        return result


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_read_that_races_a_push_shows_no_difference(reading, manager, when):
    from vitally_sync.note_reconcile import notes_read_back
    from vitally_sync.services import client_get

    fake = reading
    account = linked(fake, manager)
    with worker():
        entry = journal_entry_create(account=account, author=manager, title="Limits", body="One")
        external_id = f"handoff-note-{entry.pk}"
        assert beat_notes(lambda: sent(external_id))

        def push_meanwhile():
            journal_entry_update(
                entry=entry, actor=manager, data={"body": "Two"}, expected_version=ANY_VERSION
            )
            assert beat_notes(lambda: sent(external_id))  # the worker's push lands

        raced = _PushDuringRead(client_get(sync_config()), push_meanwhile, when=when)
        report = notes_read_back(due_only=False, client=raced)
        assert (report.read, report.discarded) == (0, 1), report  # thrown away, not compared
        row = note_row(external_id)
        assert not row.held and row.in_vitally == "" and row.sent_note == "<p>Two</p>"
        assert notes_read_back(due_only=False).found == {"agrees": 1}  # a later read agrees
    assert fake.notes_list()[0]["note"] == "<p>Two</p>"
    assert not AccountSync.objects.filter(note_decisions__gt=0).exists()
