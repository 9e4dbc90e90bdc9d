"""Notes read back from Vitally (note_reconcile.py) and what people choose for a note that
differs there (note_differences.py): real PostgreSQL and Redis, the fake Vitally over HTTP, no
worker (the worker's tests are in test_notes_e2e.py)."""

import datetime
import time

import pytest
import requests
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from handoff.audit.models import AuditEvent
from handoff.common.services import ANY_VERSION
from handoff.people.models import User
from logs.services import journal_entry_create, journal_entry_update
from tests.factories import AccountFactory, UserFactory
from tests.query_budget import account_page_queries, vitally_page_queries
from tests.vitally_sync.conftest import TEST_KEY
from vitally_sync import tasks
from vitally_sync.client import Kind, Result
from vitally_sync.conf import sync_config
from vitally_sync.fake import Scripted, note_html_clean
from vitally_sync.models import AccountSync, NoteSync
from vitally_sync.note_reconcile import (
    note_finding,
    note_read_record,
    note_read_token,
    note_words,
    notes_read_back,
)
from vitally_sync.notes import note_push, notes_sweep
from vitally_sync.services import key_pause_record, key_refused_record, key_state_get

pytestmark = pytest.mark.django_db


@pytest.fixture
def notes_on(settings, fake_vitally):
    settings.VITALLY_NOTES_ENABLED = True
    settings.VITALLY_NOTE_CATEGORIES = ["all"]
    settings.PORTAL_BASE_URL = "https://handoff.example.com"
    return fake_vitally


@pytest.fixture
def linked(notes_on, account):
    notes_on.account_create(external_id=account.vitally_account_id, name=account.name)
    return account


def _sent(account, author, title="Upper limits", body="Up to **1,200** users.") -> NoteSync:
    entry = journal_entry_create(account=account, author=author, title=title, body=body)
    row = NoteSync.objects.get(journal_entry=entry)
    assert note_push(external_id=row.external_id).outcome == "sent"
    return NoteSync.objects.get(pk=row.pk)


def _correct(row: NoteSync, actor, body: str) -> None:
    journal_entry_update(
        entry=row.journal_entry, actor=actor, data={"body": body}, expected_version=ANY_VERSION
    )


def _read(**kwargs):
    return notes_read_back(due_only=False, **kwargs)


def _writes(fake) -> list[dict]:
    return [
        e
        for e in fake.requests_log(path_prefix="/resources/notes")
        if e["method"] in ("PUT", "POST")
    ]


def _page(client, account) -> str:
    return client.get(reverse("vitally_sync:panel", args=[account.pk])).content.decode()


def _row_html(page: str, row: NoteSync) -> str:
    start = page.index(f'id="vitally-note-{row.pk}"')
    end = page.find('<tr id="vitally-note-', start + 1)
    return page[start : end if end > 0 else page.index("</table>", start)]


def _choose(client, account, row: NoteSync, what: str, version=None):
    url = reverse(f"vitally_sync:note_{what}", args=[account.pk, row.pk])
    return client.post(url, {"version": row.read_version if version is None else version})


# --- comparing (pure) -----------------------------------------------------------------------------
def test_what_a_person_reads_is_compared_not_how_it_is_written():
    sent = (
        '<h3>Limits</h3><p>Up to <strong>1,200</strong> users &amp; 3 repos. <a href="https://x.'
        'example/T-1" rel="noopener">T-1</a></p><table><tr><td>a</td></tr></table>'
    )
    kept = note_html_clean(sent)  # Vitally's allow-list drops h3, table, rel
    assert "<h3>" not in kept and "<table>" not in kept and "rel=" not in kept
    assert note_words(kept) == note_words(sent)
    rewritten = '<div>Limits</div>\n<p>Up to <b>1,200</b>&nbsp;users &#38; 3 repos. <a href="https://x.example/T-1">T-1</a></p><p>a</p>'
    assert note_words(rewritten) == note_words(sent)
    assert note_words(sent.replace("1,200", "1,500")) != note_words(sent)
    assert note_words(sent.replace('T-1"', 'T-2"')) != note_words(sent)  # the link's target
    assert note_words("<p>x</p><script>alert(1)</script>") == note_words("<p>x</p>")


def test_a_read_says_as_sent_changed_archived_or_deleted_and_nothing_on_a_failure():
    def ok(body):
        return Result(Kind.OK, 200, "", body)

    sent = {"sent_subject": "Limits", "sent_note": "<p>Up to 1,200</p>"}
    same = ok({"subject": " Limits ", "note": "<p>Up  to 1,200</p>", "archivedAt": None})
    assert note_finding(**sent, result=same).state == "agrees"
    changed = note_finding(**sent, result=ok({"subject": "Limits", "note": "<p>Up to 900</p>"}))
    assert (changed.state, changed.subject, changed.note) == (
        "changed",
        "Limits",
        "<p>Up to 900</p>",
    )
    renamed = ok({"subject": "Limits (old)", "note": "<p>Up to 1,200</p>"})
    assert note_finding(**sent, result=renamed).state == "changed"
    archived = ok({"subject": "Limits", "note": "<p>x</p>", "archivedAt": "2026-01-01T00:00Z"})
    assert note_finding(**sent, result=archived).state == "archived"
    assert note_finding(**sent, result=Result(Kind.FAILED, 404, "gone")).state == "deleted"
    assert note_finding(**sent, result=Result(Kind.FAILED, 400, "bad")) is None
    assert note_finding(**sent, result=Result(Kind.TRANSIENT, 503, "down")) is None
    assert note_finding(**sent, result=ok({"subject": "Limits"})) is None  # no text: no verdict


# --- the fake -------------------------------------------------------------------------------------
def _api(fake, method: str, path: str, body=None) -> requests.Response:
    """A request to the fake's API, as the portal's client sends it (Basic auth)."""
    return requests.request(method, fake.url + path, json=body, auth=(TEST_KEY, ""), timeout=5)


def _note_posted(fake) -> dict:
    account = fake.account_create(external_id="acme", name="Acme")
    body = {"accountId": account["id"], "note": "<p>Hi</p>", "noteDate": "2026-01-01T00:00Z"}
    answer = _api(fake, "POST", "/resources/notes", body)
    assert answer.status_code == 200
    return answer.json()


def test_the_fake_edits_archives_and_deletes_a_note_by_hand_over_http(fake_vitally):
    note = _note_posted(fake_vitally)
    api_requests = len(fake_vitally.requests_log())
    url = f"{fake_vitally.url}/_fake/notes/{note['id']}"
    edited = requests.post(
        url + "/edit", json={"subject": "By hand", "note": "<p>Now <h1>x</h1></p>"}, timeout=5
    )
    assert edited.status_code == 200
    assert edited.json()["subject"] == "By hand" and edited.json()["note"] == "<p>Now x</p>"
    assert requests.post(url + "/edit", json={}, timeout=5).status_code == 400
    assert requests.post(url + "/archive", timeout=5).json()["archivedAt"]
    assert fake_vitally.notes_list()[0]["archivedAt"]
    assert requests.post(url + "/delete", timeout=5).status_code == 200
    assert fake_vitally.notes_list() == []
    assert requests.post(url + "/archive", timeout=5).status_code == 404
    assert len(fake_vitally.requests_log()) == api_requests  # hand edits are no API requests
    assert [e["note"] for e in fake_vitally.hand_edits] == [
        "subject and text changed",
        "archived",
        "deleted",
    ]
    page = requests.get(fake_vitally.url + "/", timeout=5).text
    assert "Note archived" in page and "/_fake/notes/&lt;id&gt;/edit" in page


def test_a_put_to_an_archived_note_is_accepted_and_leaves_it_archived(fake_vitally):
    note = _note_posted(fake_vitally)
    fake_vitally.note_hand_archive(note["id"])
    path = f"/resources/notes/{note['id']}"
    answer = _api(fake_vitally, "PUT", path, {"note": "<p>2</p><h2>kept as text</h2>"})
    assert answer.status_code == 200
    assert answer.json()["archivedAt"] and answer.json()["note"] == "<p>2</p>kept as text"
    assert _api(fake_vitally, "GET", path).json()["archivedAt"]  # read back: still archived


# --- reading back ---------------------------------------------------------------------------------
def test_a_sent_note_read_back_agrees_and_a_hand_edit_is_found_changed(fake_vitally, linked, ie):
    fake = fake_vitally
    row = _sent(linked, ie)
    assert (row.sent_subject, row.sent_note) == (
        "Upper limits",
        "<p>Up to <strong>1,200</strong> users.</p>",
    )
    report = _read()
    assert (report.read, report.found) == (1, {"agrees": 1}), report
    row = NoteSync.objects.get(pk=row.pk)
    assert row.in_vitally == "agrees" and row.read_at is not None and not row.held
    fake.note_hand_edit(row.vitally_note_id, note="<p>Up to <b>900</b> users.</p>")
    report = _read()
    assert report.found == {"changed": 1} and "1 read, 1 changed in Vitally." in str(report)
    row = NoteSync.objects.get(pk=row.pk)
    assert (row.in_vitally, row.vitally_note) == ("changed", "<p>Up to <b>900</b> users.</p>")
    assert row.held and row.in_vitally_since is not None
    assert AccountSync.objects.get(pk=linked.pk).note_decisions == 1


def test_a_correction_of_a_changed_note_is_held_until_someone_chooses(
    fake_vitally, linked, ie, client_for
):
    fake = fake_vitally
    row = _sent(linked, ie)
    fake.note_hand_edit(row.vitally_note_id, subject="Limits (CSM)")
    _read()
    _correct(row, ie, "Up to 1,500 users.")
    assert note_push(external_id=row.external_id).outcome == "skipped"
    assert notes_sweep() == {}
    assert len(_writes(fake)) == 1  # the first POST only
    [note] = fake.notes_list()
    assert note["subject"] == "Limits (CSM)"  # as the person in Vitally left it
    page = _page(client_for(ie), linked)
    shown = _row_html(page, row)
    assert '<strong class="note-state">Changed in Vitally</strong>' in shown
    assert "The portal's text" in shown and "corrected since it was sent" in shown
    assert "<p>Up to 1,500 users.</p>" in shown  # what "Send" would send
    assert "Subject: <strong>Limits (CSM)</strong>" in shown
    assert "<summary>Text sent</summary>" in shown and "Up to <strong>1,200</strong>" in shown
    assert "Send the portal's text" in shown and "Leave Vitally's note" in shown


def test_send_the_portals_text_overwrites_vitallys_with_the_latest_text_once(
    fake_vitally, linked, ie, client_for
):
    fake = fake_vitally
    row = _sent(linked, ie)
    fake.note_hand_edit(row.vitally_note_id, note="<p>Edited in Vitally</p>")
    _read()
    _correct(row, ie, "Second")
    _correct(row, ie, "Latest")
    row = NoteSync.objects.get(pk=row.pk)
    response = _choose(client_for(ie), linked, row, "send")
    assert response.status_code == 302 and response["Location"].endswith("#vitally-notes")
    row = NoteSync.objects.get(pk=row.pk)
    assert (row.in_vitally, row.overwrite, row.held, row.due) == ("", True, False, True)
    assert AccountSync.objects.get(pk=linked.pk).note_decisions == 0
    gets = len(fake.requests_log(method="GET", path_prefix="/resources/notes/"))
    assert note_push(external_id=row.external_id).outcome == "sent"
    # Sent as chosen, without a look first (the look would hold it again).
    assert len(fake.requests_log(method="GET", path_prefix="/resources/notes/")) == gets
    [note] = fake.notes_list()
    assert note["note"] == "<p>Latest</p>" and not note["archivedAt"]
    row = NoteSync.objects.get(pk=row.pk)
    assert (row.in_vitally, row.overwrite, row.sent_note) == ("", False, "<p>Latest</p>")
    event = AuditEvent.objects.filter(object_type="vitally_sync.notesync").get()
    assert event.actor == ie and event.account_id == linked.pk
    assert event.message.startswith(
        "Chose to send the portal's text of the note “Upper limits” to Vitally over Vitally's "
        "(changed in Vitally, found "
    )
    # Vitally keeps no copy of the text sent over: History does.
    assert event.changes == [
        {
            "field": "vitally_note",
            "label": "Text in Vitally",
            "before": "Edited in Vitally",
            "after": "the portal's, sent over it",
        }
    ]
    history = client_for(ie).get(reverse("accounts:history", args=[linked.pk])).content.decode()
    assert "Chose to send the portal&#x27;s text of the note" in history
    assert "Edited in Vitally" in history
    assert _read().found == {"agrees": 1}


def test_a_note_changed_in_vitally_is_not_overwritten_by_a_correction_before_any_read(
    fake_vitally, linked, ie
):
    """The push looks before it overwrites: no read pass needed."""
    fake = fake_vitally
    row = _sent(linked, ie)
    fake.note_hand_edit(row.vitally_note_id, note="<p>Edited in Vitally</p>")
    _correct(row, ie, "Correction")
    report = note_push(external_id=row.external_id)
    assert report.outcome == "held" and "changed the note in Vitally" in report.message
    assert fake.notes_list()[0]["note"] == "<p>Edited in Vitally</p>"
    assert len(_writes(fake)) == 1
    row = NoteSync.objects.get(pk=row.pk)
    assert (row.in_vitally, row.vitally_note, row.due) == (
        "changed",
        "<p>Edited in Vitally</p>",
        True,
    )


def test_a_correction_that_only_vitallys_html_rules_rewrite_is_sent(fake_vitally, linked, ie):
    """Vitally drops the portal's headings and tables: the look still finds it as sent."""
    fake = fake_vitally
    row = _sent(linked, ie, body="# Limits\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    assert "<h3>" not in fake.notes_list()[0]["note"] and "<h3>" in row.sent_note
    _correct(row, ie, "# Limits\n\nNone.")
    assert note_push(external_id=row.external_id).outcome == "sent"
    assert note_words(fake.notes_list()[0]["note"]) == note_words("<p>Limits</p><p>None.</p>")


def test_an_archived_note_is_not_sent_into_nor_created_again_until_chosen(
    fake_vitally, linked, ie, client_for
):
    fake = fake_vitally
    row = _sent(linked, ie)
    old_id = row.vitally_note_id
    fake.note_hand_archive(old_id)
    assert _read().found == {"archived": 1}
    _correct(row, ie, "After the archive")
    assert note_push(external_id=row.external_id).outcome == "skipped"
    assert notes_sweep() == {}
    assert len(_writes(fake)) == 1
    shown = _row_html(_page(client_for(ie), linked), NoteSync.objects.get(pk=row.pk))
    assert "Archived in Vitally" in shown and "Archived: Vitally keeps it out of sight." in shown
    assert "send the portal&#x27;s text (a new note)" in shown

    assert (
        _choose(client_for(ie), linked, NoteSync.objects.get(pk=row.pk), "send").status_code == 302
    )
    row = NoteSync.objects.get(pk=row.pk)
    assert (row.generation, row.vitally_note_id, row.vitally_external_id) == (
        1,
        "",
        f"{row.external_id}-2",
    )
    assert note_push(external_id=row.external_id).outcome == "sent"
    notes = fake.notes_list()
    assert [n["id"] == old_id for n in notes] == [True, False]
    archived, visible = notes
    assert archived["archivedAt"] and not visible["archivedAt"]
    assert visible["externalId"] == f"{row.external_id}-2"
    assert visible["note"] == "<p>After the archive</p>"
    assert NoteSync.objects.get(pk=row.pk).vitally_note_id == visible["id"]
    assert "as a new note (archived in Vitally" in AuditEvent.objects.latest("pk").message


def test_a_put_that_lands_in_an_archived_note_holds_it(fake_vitally, linked, ie, client_for):
    """Archived after "Send the portal's text" was chosen over a changed note: the PUT is
    taken, out of sight; the answer's archivedAt holds the note for a decision."""
    fake = fake_vitally
    row = _sent(linked, ie)
    fake.note_hand_edit(row.vitally_note_id, note="<p>Edited</p>")
    _read()
    _choose(client_for(ie), linked, NoteSync.objects.get(pk=row.pk), "send")
    fake.note_hand_archive(row.vitally_note_id)
    report = note_push(external_id=row.external_id)
    assert report.outcome == "held" and "archived in Vitally" in report.message
    row = NoteSync.objects.get(pk=row.pk)
    assert (row.in_vitally, row.due, row.held) == ("archived", False, True)
    assert AccountSync.objects.get(pk=linked.pk).note_decisions == 1


def test_deleted_then_send_creates_it_again_as_one_new_note(fake_vitally, linked, ie, client_for):
    fake = fake_vitally
    row = _sent(linked, ie)
    fake.note_hand_delete(row.vitally_note_id)
    assert _read().found == {"deleted": 1}
    assert _read().read == 0  # gone: not read again
    _choose(client_for(ie), linked, NoteSync.objects.get(pk=row.pk), "send")
    assert note_push(external_id=row.external_id).outcome == "sent"
    [note] = fake.notes_list()
    assert note["externalId"] == f"{row.external_id}-2" and "1,200" in note["note"]


def test_leave_vitallys_note_stops_sending_it_and_send_resumes(
    fake_vitally, linked, ie, client_for
):
    fake = fake_vitally
    row = _sent(linked, ie)
    fake.note_hand_edit(row.vitally_note_id, note="<p>Theirs</p>")
    _read()
    client = client_for(ie)
    response = _choose(client, linked, NoteSync.objects.get(pk=row.pk), "leave")
    assert response.status_code == 302
    assert (
        "is left as it is: the portal no longer sends it"
        in client.get(response["Location"]).content.decode()
    )
    row = NoteSync.objects.get(pk=row.pk)
    assert row.left_at is not None and row.left_by_name and row.held and not row.differs
    assert AccountSync.objects.get(pk=linked.pk).note_decisions == 0
    assert "Chose to leave the note “Upper limits” as it is in Vitally (changed in Vitally" in (
        AuditEvent.objects.get(object_type="vitally_sync.notesync").message
    )
    _correct(row, ie, "Ours, corrected")
    assert notes_sweep() == {} and _read().read == 0  # neither sent nor read
    assert fake.notes_list()[0]["note"] == "<p>Theirs</p>"
    shown = _row_html(_page(client, linked), row)
    assert "Left as it is in Vitally" in shown and "no longer sends this note" in shown
    assert "Leave Vitally's note" not in shown and "Send the portal's text" in shown
    _choose(client, linked, NoteSync.objects.get(pk=row.pk), "send")
    assert note_push(external_id=row.external_id).outcome == "sent"
    assert fake.notes_list()[0]["note"] == "<p>Ours, corrected</p>"


def test_a_note_put_back_as_sent_in_vitally_lifts_the_hold_and_the_correction_goes(
    fake_vitally, linked, ie, django_capture_on_commit_callbacks
):
    fake = fake_vitally
    row = _sent(linked, ie)
    sent_html = fake.notes_list()[0]["note"]
    fake.note_hand_edit(row.vitally_note_id, note="<p>Oops</p>")
    _read()
    _correct(row, ie, "Correction")
    fake.note_hand_edit(row.vitally_note_id, note=sent_html)  # put back by hand
    with django_capture_on_commit_callbacks() as kicks:
        assert _read().found == {"agrees": 1}  # held, yet read: it may agree again
    assert len(kicks) == 1  # the correction that waited is kicked
    row = NoteSync.objects.get(pk=row.pk)
    assert not row.held and row.due
    assert AccountSync.objects.get(pk=linked.pk).note_decisions == 0
    assert note_push(external_id=row.external_id).outcome == "sent"
    assert fake.notes_list()[0]["note"] == "<p>Correction</p>"


# --- what is read, and when -----------------------------------------------------------------------
def test_notes_due_in_flight_held_by_a_push_or_never_acknowledged_are_not_read(
    fake_vitally, linked, ie
):
    fake = fake_vitally
    due = _sent(linked, ie, title="Due")
    _correct(due, ie, "to send")
    flying = _sent(linked, ie, title="In flight")
    NoteSync.objects.filter(pk=flying.pk).update(inflight_at=timezone.now())
    leased = _sent(linked, ie, title="Leased")
    NoteSync.objects.filter(pk=leased.pk).update(
        lease_token="00000000-0000-0000-0000-000000000001",
        lease_until=timezone.now() + datetime.timedelta(seconds=30),
    )
    legacy = _sent(linked, ie, title="Sent before the read back")
    NoteSync.objects.filter(pk=legacy.pk).update(sent_note="", sent_subject="")
    never = journal_entry_create(account=linked, author=ie, title="Never sent", body="x")
    assert NoteSync.objects.get(journal_entry=never).vitally_note_id == ""
    gets = len(fake.requests_log(method="GET"))
    assert _read().read == 0
    assert len(fake.requests_log(method="GET")) == gets


def test_only_notes_not_read_for_the_interval_are_due_least_recently_read_first(
    fake_vitally, linked, ie, settings
):
    fake = fake_vitally
    rows = [_sent(linked, ie, title=f"Note {n}") for n in range(3)]
    settings.VITALLY_RECONCILE_SECONDS = 3600
    assert notes_read_back().read == 0  # all sent just now
    two_hours_ago = timezone.now() - datetime.timedelta(hours=2)
    NoteSync.objects.update(last_pushed_at=two_hours_ago)
    NoteSync.objects.filter(pk=rows[1].pk).update(read_at=two_hours_ago)
    NoteSync.objects.filter(pk=rows[2].pk).update(
        read_at=two_hours_ago - datetime.timedelta(minutes=5)
    )
    since = time.time()
    assert notes_read_back().read == 3
    order = [
        e["path"].rsplit("/", 1)[1]
        for e in fake.requests_log(method="GET", path_prefix="/resources/notes/")
        if e["at"] >= since
    ]
    by_id = {row.vitally_note_id: n for n, row in enumerate(rows)}
    assert [by_id[i] for i in order] in ([0, 2, 1], [2, 0, 1])  # never read, then oldest read
    assert notes_read_back().read == 0


def test_a_read_during_which_the_note_was_pushed_is_thrown_away(fake_vitally, linked, ie):
    row = _sent(linked, ie)
    token = note_read_token(row)
    NoteSync.objects.filter(pk=row.pk).update(
        sent_note="<p>Newer</p>", last_pushed_at=timezone.now(), last_attempt_at=timezone.now()
    )
    from vitally_sync.note_reconcile import Finding

    stored = note_read_record(
        note_id=row.pk,
        token=token,
        finding=Finding("changed", "Upper limits", "<p>Up to 1,200</p>"),
        read_at=timezone.now(),
    )
    assert stored is False
    row = NoteSync.objects.get(pk=row.pk)
    assert (row.in_vitally, row.read_at, row.held) == ("", None, False)
    assert AccountSync.objects.filter(pk=linked.pk, note_decisions__gt=0).count() == 0


def test_reads_stay_within_the_reconciles_share_of_the_rate_limit(
    fake_vitally, linked, ie, settings
):
    settings.VITALLY_RATE_LIMIT_PER_MINUTE = 6000
    settings.VITALLY_RECONCILE_SHARE = 0.1  # 600 reads a minute: one per 100 ms
    for n in range(8):
        _sent(linked, ie, title=f"Paced {n}")
    started = time.time()
    assert _read().read == 8
    gets = [
        e["at"]
        for e in fake_vitally.requests_log(method="GET", path_prefix="/resources/notes/")
        if e["at"] >= started
    ]
    assert len(gets) == 8
    assert max(gets) - min(gets) >= 7 / (6000 * 0.1 / 60) * 0.9


def test_a_429_a_durable_pause_or_a_refused_key_stops_the_read_back(fake_vitally, linked, ie):
    fake = fake_vitally
    _sent(linked, ie, title="One")
    _sent(linked, ie, title="Two")
    fake.script(Scripted(429, {"Retry-After": "30"}, methods=("GET",)))
    report = _read()
    assert (report.read, report.rate_limited) == (0, 1) and "429" in report.stopped
    assert key_state_get(sync_config()).paused_for > 25  # shared with every worker
    gets = len(fake.requests_log(method="GET"))
    assert "429" in _read().stopped and len(fake.requests_log(method="GET")) == gets
    assert NoteSync.objects.filter(read_at__isnull=False).count() == 0
    key_pause_record(sync_config(), 0)
    from vitally_sync.models import VitallyKey

    VitallyKey.objects.update(paused_until=None)
    from vitally_sync.limiter import limiter_get

    limiter_get(sync_config().redis_url).reset()
    key_refused_record(sync_config(), "Vitally refused the API key (HTTP 401).")
    report = _read()
    assert report.read == 0 and "refuses the API key" in report.stopped
    assert len(fake.requests_log(method="GET")) == gets


def test_beat_reads_notes_back_and_zero_turns_it_off(fake_vitally, linked, ie, settings):
    from django.conf import settings as live

    entry = live.CELERY_BEAT_SCHEDULE["vitally-notes-read-back"]
    assert entry["task"] == "vitally_sync.notes_read_back" and entry["schedule"] == 60
    _sent(linked, ie)
    settings.VITALLY_RECONCILE_SECONDS = 0
    assert tasks.notes_read_back() == "Notes read back: off (VITALLY_RECONCILE_SECONDS=0)."
    settings.VITALLY_RECONCILE_SECONDS = 0.001
    assert tasks.notes_read_back().startswith("Notes read back in ")
    assert NoteSync.objects.get().in_vitally == "agrees"
    settings.VITALLY_NOTES_ENABLED = False
    assert "notes are off" in tasks.notes_read_back()


# --- what people see, and who may choose ----------------------------------------------------------
@pytest.fixture
def changed(fake_vitally, linked, ie) -> NoteSync:
    """A sent note someone changed in Vitally, found by a read."""
    row = _sent(linked, ie)
    fake_vitally.note_hand_edit(row.vitally_note_id, note="<p>Edited in Vitally</p>")
    assert _read().found == {"changed": 1}
    return NoteSync.objects.get(pk=row.pk)


def test_the_account_page_lists_a_note_that_waits_without_a_query_more(
    fake_vitally, linked, changed, ta, client_for, django_assert_num_queries
):
    from tests.closeout.conftest import record_deployment

    record_deployment(linked, changed.journal_entry.author)  # the pages' usual shape
    client = client_for(ta)
    with django_assert_num_queries(account_page_queries()):
        page = client.get(reverse("accounts:detail", args=[linked.pk])).content.decode()
    start = page.index('id="attention"')
    strip = page[start : page.index("</section>", start)]
    assert "A note differs in Vitally" in strip
    assert f"/accounts/{linked.pk}/vitally/#vitally-notes" in strip
    row2 = _sent(linked, changed.journal_entry.author, title="Second")
    fake_vitally.note_hand_archive(row2.vitally_note_id)
    _read()
    with django_assert_num_queries(account_page_queries()):
        page = client.get(reverse("accounts:detail", args=[linked.pk])).content.decode()
    assert "2 notes differ in Vitally" in page


@pytest.mark.parametrize("count", [1, 3])
def test_the_vitally_page_costs_the_same_queries_with_one_or_several_notes_that_differ(
    fake_vitally, linked, ie, client_for, count, django_assert_num_queries
):
    for n in range(count):
        row = _sent(linked, ie, title=f"Note {n}")
        fake_vitally.note_hand_edit(row.vitally_note_id, note=f"<p>Edited {n}</p>")
    assert _read().found == {"changed": count}
    client = client_for(ie)
    with django_assert_num_queries(vitally_page_queries(with_environments=False)):
        page = client.get(reverse("vitally_sync:panel", args=[linked.pk])).content.decode()
    assert page.count("Leave Vitally's note") == count


def test_my_work_sends_a_note_that_waits_to_whoever_may_choose(
    fake_vitally, linked, changed, client_for, ie, ta, manager
):
    from handoff.accounts.models import Account
    from tests.phases import phase_move

    def listed(person) -> str:
        response = client_for(person).get(reverse("accounts:my_work"))
        lists = {i.key: i for i in response.context["inbox"].lists}
        return response.content.decode() if "vitally-notes" in lists else ""

    page = listed(ie)
    assert "Vitally notes to decide" in page and "Upper limits (changed in Vitally)" in page
    assert f"/accounts/{linked.pk}/vitally/#vitally-notes" in page
    assert not listed(ta)
    phase_move(account=Account.objects.get(pk=linked.pk), actor=manager, to="handed_off")
    assert listed(ta) and not listed(ie)


@pytest.mark.parametrize("who", ["ta", "other_ie"])
def test_people_who_may_not_choose_see_it_read_only_and_get_403(
    fake_vitally, linked, changed, client_for, who, ta
):
    person = (
        ta
        if who == "ta"
        else UserFactory(username="other-ie", role=User.Role.IMPLEMENTATION_ENGINEER)
    )
    client = client_for(person)
    page = _page(client, linked)
    assert "Changed in Vitally" in page and "Edited in Vitally" in page
    assert "Leave Vitally's note" not in page and "Send the portal's text" not in page
    assert "or a manager chooses" in page
    events = AuditEvent.objects.count()
    for what in ("send", "leave"):
        assert _choose(client, linked, changed, what).status_code == 403
    assert AuditEvent.objects.count() == events
    row = NoteSync.objects.get(pk=changed.pk)
    assert (row.in_vitally, row.left_at, row.read_version) == (
        "changed",
        None,
        changed.read_version,
    )


def test_a_manager_may_choose(fake_vitally, linked, changed, client_for, manager):
    assert _choose(client_for(manager), linked, changed, "leave").status_code == 302
    assert NoteSync.objects.get(pk=changed.pk).left_at is not None


def test_choosing_needs_post_and_the_csrf_token(fake_vitally, linked, changed, ie):
    client = Client(enforce_csrf_checks=True)
    client.force_login(ie)
    for what in ("send", "leave"):
        url = reverse(f"vitally_sync:note_{what}", args=[linked.pk, changed.pk])
        assert client.get(url).status_code == 405
        assert client.post(url, {"version": changed.read_version}).status_code == 403
    assert NoteSync.objects.get(pk=changed.pk).in_vitally == "changed"


def test_a_stale_form_another_accounts_note_or_a_decided_note_changes_nothing(
    fake_vitally, linked, changed, ie, client_for
):
    client = client_for(ie)
    # Changed again in Vitally since the page was shown: its version rose.
    fake_vitally.note_hand_edit(changed.vitally_note_id, note="<p>Edited twice</p>")
    assert _read().found == {"changed": 1}
    response = _choose(client, linked, changed, "send")
    assert response.status_code == 200
    assert "changed since the page was shown: look at it again" in response.content.decode()
    assert 'role="alert"' in response.content.decode()
    for version in ("", "x", "-1"):
        response = _choose(client, linked, changed, "leave", version=version)
        assert response.status_code == 200 and 'role="alert"' in response.content.decode()
    mine = AccountFactory(name="Mine", vitally_account_id="mine", implementation_engineer=ie)
    fresh = NoteSync.objects.get(pk=changed.pk)
    response = _choose(client, mine, fresh, "send")
    assert "no longer waits for a decision" in response.content.decode()
    assert _choose(client, linked, fresh, "leave").status_code == 302
    again = _choose(client, linked, fresh, "leave")  # the same POST twice
    assert "look at it again" in again.content.decode()
    left = NoteSync.objects.get(pk=changed.pk)
    assert _choose(client, linked, left, "leave").content.decode().count("no longer waits") == 1
    assert AuditEvent.objects.filter(object_type="vitally_sync.notesync").count() == 1


def test_a_choice_is_refused_while_a_push_holds_the_note(
    fake_vitally, linked, changed, ie, client_for
):
    NoteSync.objects.filter(pk=changed.pk).update(
        lease_token="00000000-0000-0000-0000-000000000001",
        lease_until=timezone.now() + datetime.timedelta(seconds=30),
    )
    response = _choose(client_for(ie), linked, changed, "send")
    assert "A push to Vitally is under way for this note" in response.content.decode()
    assert NoteSync.objects.get(pk=changed.pk).in_vitally == "changed"


def test_the_vitally_page_with_notes_that_differ_is_valid_html(
    fake_vitally, linked, changed, ie, client_for, tmp_path
):
    from tests.test_html_validity import _vnu_errors

    archived = _sent(linked, ie, title="Archived <one>")
    fake_vitally.note_hand_archive(archived.vitally_note_id)
    _read()
    fake_vitally.note_hand_edit(
        changed.vitally_note_id,
        note='<p>x<script>alert(1)</script><a href="javascript:alert(1)">y</a></p>',
    )
    _read()
    page = _page(client_for(ie), linked)
    assert "Archived &lt;one&gt;" in page
    assert "<script>alert" not in page and "javascript:" not in page
    errors = _vnu_errors({"panel": page}, tmp_path)
    assert not errors, "\n".join(errors)


def test_the_note_form_says_a_correction_waits_while_the_note_differs_in_vitally(
    fake_vitally, linked, ie, client_for
):
    row = _sent(linked, ie)
    url = reverse("logs:journal_edit", args=[linked.pk, row.journal_entry_id])
    client = client_for(ie)
    assert "a correction updates it there" in client.get(url).content.decode()
    fake_vitally.note_hand_edit(row.vitally_note_id, note="<p>Edited in Vitally</p>")
    _read()
    html = client.get(url).content.decode()
    assert "a correction updates it there" not in html
    assert (
        "This note is changed in Vitally: a correction is saved here but not sent to Vitally "
        "until someone chooses on"
    ) in html
