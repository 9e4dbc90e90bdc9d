"""Implementation notes and sign-offs as Vitally notes: the payloads, the intent written with
the note, and a push against the fake over HTTP (no worker; the worker's tests are in
test_notes_e2e.py)."""

import datetime

import pytest
from django.urls import reverse

from handoff.common.services import ANY_VERSION
from logs.models import JournalEntry
from logs.services import journal_entry_create, journal_entry_update
from tests.phases import phase_move
from vitally_sync.admins import admin_id_from
from vitally_sync.fake import Scripted
from vitally_sync.models import NoteSync
from vitally_sync.notes import (
    SIGNED_OFF_SUBJECT,
    note_category_sent,
    note_date,
    note_payload_build,
    note_push,
    note_put_body,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def notes_on(settings):
    settings.VITALLY_NOTES_ENABLED = True
    settings.VITALLY_NOTE_CATEGORIES = ["all"]
    settings.PORTAL_BASE_URL = "https://handoff.example.com/"


def _entry(account, author, **data) -> JournalEntry:
    values = {"title": "SSO configured", "body": "Indexing **3,412** repos.", **data}
    return journal_entry_create(account=account, author=author, **values)


# --- payloads -------------------------------------------------------------------------------------
def test_note_date_is_utc_with_milliseconds_and_z():
    moment = datetime.datetime(2026, 5, 2, 10, 15, 0, 123456, tzinfo=datetime.UTC)
    assert note_date(moment) == "2026-05-02T10:15:00.123Z"
    east = moment.astimezone(datetime.timezone(datetime.timedelta(hours=2)))
    assert note_date(east) == "2026-05-02T10:15:00.123Z"


def test_journal_payload_is_the_rendered_sanitised_markdown_under_a_stable_external_id(
    notes_on, account, ie
):
    entry = _entry(
        account,
        ie,
        body="**Upper limit** 1,200 users <script>alert(1)</script> [x](javascript:alert(1))",
        reference_url="https://tickets.example.com/T-1",
    )
    row = NoteSync.objects.get(journal_entry=entry)
    payload = note_payload_build(row, account_id="vit-123")
    assert row.external_id == f"handoff-note-{entry.pk}"
    assert payload["externalId"] == row.external_id
    assert payload["accountId"] == "vit-123"
    assert payload["subject"] == "SSO configured"
    assert "<strong>Upper limit</strong>" in payload["note"]
    assert "<script" not in payload["note"] and "javascript:" not in payload["note"]
    assert 'href="https://tickets.example.com/T-1"' in payload["note"]
    assert payload["noteDate"] == note_date(entry.created_at)
    assert "authorId" not in payload  # no admin found: no authorId at all
    row.author_id = "admin-7"
    assert note_payload_build(row, account_id="vit-123")["authorId"] == "admin-7"
    assert "externalId" not in note_put_body(payload)  # only on create (vitally-api.md §5)


def test_sign_off_payload_has_readiness_the_blockers_overridden_and_the_snapshot_link(
    notes_on, account, manager
):
    phase_move(account=account, actor=manager, to="handed_off")
    sign_off = account.sign_offs.get()
    row = NoteSync.objects.get(sign_off=sign_off)
    payload = note_payload_build(row, account_id="vit-1")
    assert payload["subject"] == SIGNED_OFF_SUBJECT
    assert row.external_id == f"handoff-signoff-{sign_off.pk}"
    assert f"Readiness: {sign_off.readiness_percent}%" in payload["note"]
    assert sign_off.blockers  # the test account has blockers: the override is listed
    assert f"Blockers overridden ({len(sign_off.blockers)})" in payload["note"]
    assert "Why: Signed off by a test." in payload["note"]
    url = "https://handoff.example.com" + reverse(
        "closeout:sign_off_detail", args=[account.pk, sign_off.pk]
    )
    assert f'href="{url}"' in payload["note"]
    assert payload["noteDate"] == note_date(sign_off.signed_at)


def test_categories_setting_and_admin_search_answer(settings):
    from vitally_sync.notes import note_categories_check

    assert note_category_sent("general")
    assert note_categories_check() == []
    settings.VITALLY_NOTE_CATEGORIES = ["general", "upper_limit"]  # a typo: nothing would go
    [error] = note_categories_check()
    assert error.id == "vitally_sync.E010" and "upper_limit " in error.msg
    assert admin_id_from([{"id": "a1", "email": "Irene@Example.com"}], "irene@example.com") == "a1"
    assert admin_id_from({"results": [{"id": "a2", "email": "x@y.z"}]}, "x@y.z") == "a2"
    assert admin_id_from({"error": "Not found"}, "x@y.z") == ""


def test_the_intent_is_written_with_the_note_and_bumped_by_each_correction(notes_on, account, ie):
    entry = _entry(account, ie)
    row = NoteSync.objects.get(journal_entry=entry)
    assert (row.version, row.acked_version, row.due) == (1, 0, True)
    for text in ("Second", "Third"):
        journal_entry_update(
            entry=entry, actor=ie, data={"body": text}, expected_version=ANY_VERSION
        )
    assert NoteSync.objects.get(pk=row.pk).version == 3  # one row, three versions to send


def test_no_intent_when_notes_are_off_or_the_category_is_not_sent(settings, account, ie):
    settings.VITALLY_NOTES_ENABLED = False
    _entry(account, ie)
    settings.VITALLY_NOTES_ENABLED = True
    settings.VITALLY_NOTE_CATEGORIES = ["upper_limits", "significant_errors"]
    _entry(account, ie, category=JournalEntry.Category.GENERAL)
    assert not NoteSync.objects.exists()
    _entry(account, ie, category=JournalEntry.Category.UPPER_LIMITS)
    assert NoteSync.objects.count() == 1


# --- a push over HTTP (the fake) ------------------------------------------------------------
@pytest.fixture
def vitally_account(fake_vitally, notes_on, account):
    return fake_vitally.account_create(external_id=account.vitally_account_id, name=account.name)


def test_push_resolves_the_vitally_id_looks_the_author_up_and_keeps_the_returned_id(
    fake_vitally, vitally_account, account, ie
):
    entry = _entry(account, ie)
    fake_vitally.script(
        Scripted(200, body=vitally_account, methods=("GET",)),
        Scripted(200, body=[{"id": "admin-irene", "email": ie.email}], methods=("GET",)),
    )
    assert note_push(external_id=f"handoff-note-{entry.pk}").outcome == "sent"
    [note] = fake_vitally.notes_list()
    assert note["accountId"] == vitally_account["id"]  # Vitally's id, not the externalId
    assert note["authorId"] == "admin-irene"
    row = NoteSync.objects.get(journal_entry=entry)
    assert row.vitally_note_id == note["id"] and not row.due and row.inflight_at is None

    journal_entry_update(
        entry=entry, actor=ie, data={"title": "SSO done"}, expected_version=ANY_VERSION
    )
    assert note_push(external_id=row.external_id).outcome == "sent"
    [note] = fake_vitally.notes_list()
    assert note["subject"] == "SSO done" and note["authorId"] == "admin-irene"
    puts = fake_vitally.requests_log(method="PUT", path_prefix="/resources/notes/")
    assert [p["path"] for p in puts] == [f"/resources/notes/{row.vitally_note_id}"]
    searches = fake_vitally.requests_log(path_prefix="/resources/admins/")
    assert len(searches) == 1  # the author is looked up once per note


def test_a_refused_note_needs_attention_and_the_vitally_page_says_why(
    fake_vitally, vitally_account, account, ie, manager, client
):
    entry = _entry(account, ie, title="Big limits")
    fake_vitally.script(Scripted(400, body={"message": "note is too long"}, methods=("POST",)))
    assert note_push(external_id=f"handoff-note-{entry.pk}").outcome == "attention"
    row = NoteSync.objects.get(journal_entry=entry)
    assert row.status == NoteSync.Status.ATTENTION and row.due
    client.force_login(ie)
    page = client.get(reverse("vitally_sync:panel", args=[account.pk])).content.decode()
    assert "Notes sent to Vitally" in page and "Big limits" in page
    assert "Needs attention" in page and "note is too long" in page
    client.force_login(manager)
    health = client.get(reverse("vitally_sync:health")).content.decode()
    assert "Notes Vitally has not taken" in health and "note is too long" in health
    # A correction is the fix: due again at once.
    journal_entry_update(
        entry=entry, actor=ie, data={"body": "Short"}, expected_version=ANY_VERSION
    )
    assert note_push(external_id=row.external_id).outcome == "sent"
    assert len(fake_vitally.notes_list()) == 1


def test_corrections_within_the_coalescing_wait_become_one_put_of_the_latest_text(
    fake_vitally, vitally_account, account, ie, settings
):
    settings.VITALLY_COALESCE_SECONDS = 30.0
    entry = _entry(account, ie)
    external_id = f"handoff-note-{entry.pk}"
    assert note_push(external_id=external_id).outcome == "sent"
    for text in ("Second", "Third"):
        journal_entry_update(
            entry=entry, actor=ie, data={"body": text}, expected_version=ANY_VERSION
        )
        assert note_push(external_id=external_id).outcome == "deferred"
    row = NoteSync.objects.get(external_id=external_id)
    assert row.due and row.next_attempt_at > row.last_attempt_at
    assert not fake_vitally.requests_log(method="PUT")  # nothing sent inside the wait
    NoteSync.objects.filter(pk=row.pk).update(
        last_attempt_at=row.last_attempt_at - datetime.timedelta(seconds=31), next_attempt_at=None
    )
    assert note_push(external_id=external_id).outcome == "sent"
    [put] = fake_vitally.requests_log(method="PUT")
    assert put["body"]["note"] == "<p>Third</p>"
    assert fake_vitally.notes_list()[0]["note"] == "<p>Third</p>"


def test_a_note_on_an_unlinked_account_waits_and_goes_once_the_account_is_linked(
    fake_vitally, notes_on, account, ie
):
    from handoff.accounts.models import Account

    Account.objects.filter(pk=account.pk).update(vitally_account_id="")
    account.refresh_from_db()
    entry = _entry(account, ie)
    external_id = f"handoff-note-{entry.pk}"
    assert note_push(external_id=external_id).outcome == "skipped"
    assert not fake_vitally.requests_log()
    fake_vitally.account_create(external_id="acme-new", name="Acme")
    Account.objects.filter(pk=account.pk).update(vitally_account_id="acme-new")
    assert note_push(external_id=external_id).outcome == "sent"
    assert fake_vitally.notes_list()[0]["accountId"] == fake_vitally.account_get("acme-new")["id"]


def test_a_note_deleted_in_vitally_is_not_created_again_by_the_next_correction(
    fake_vitally, vitally_account, account, ie
):
    """The look before the PUT finds it gone; a note sent before the read back existed (no
    sent text to look with) gets a 404 to its PUT: either way it is held, never POSTed."""
    entry = _entry(account, ie)
    external_id = f"handoff-note-{entry.pk}"
    assert note_push(external_id=external_id).outcome == "sent"
    old_id = NoteSync.objects.get(external_id=external_id).vitally_note_id
    fake_vitally.note_hand_delete(old_id)
    journal_entry_update(entry=entry, actor=ie, data={"body": "Back"}, expected_version=ANY_VERSION)
    assert note_push(external_id=external_id).outcome == "held"
    row = NoteSync.objects.get(external_id=external_id)
    assert (row.in_vitally, row.due, row.held, row.inflight_at) == ("deleted", True, True, None)
    # As sent before the read back existed: the PUT's 404 says it.
    NoteSync.objects.filter(pk=row.pk).update(in_vitally="", sent_note="", sent_subject="")
    assert note_push(external_id=external_id).outcome == "held"
    row = NoteSync.objects.get(external_id=external_id)
    assert (row.in_vitally, row.inflight_at) == ("deleted", None)
    assert [p["status"] for p in fake_vitally.requests_log(method="PUT")] == [404]
    assert len(fake_vitally.requests_log(method="POST", path_prefix="/resources/notes")) == 1
    assert fake_vitally.notes_list() == []
    assert note_push(external_id=external_id).outcome == "skipped"  # held: nobody claims it


def test_the_pages_that_show_notes_are_valid_html(
    fake_vitally, vitally_account, account, ie, manager, client, tmp_path
):
    from tests.test_html_validity import _vnu_errors

    sent = _entry(account, ie, title="Sent <fine>")
    assert note_push(external_id=f"handoff-note-{sent.pk}").outcome == "sent"
    refused = _entry(account, ie, title="Refused & waiting")
    fake_vitally.script(Scripted(400, body={"message": "bad <note>"}, methods=("POST",)))
    assert note_push(external_id=f"handoff-note-{refused.pk}").outcome == "attention"
    client.force_login(manager)
    pages = {
        "panel": client.get(reverse("vitally_sync:panel", args=[account.pk])).content.decode(),
        "health": client.get(reverse("vitally_sync:health")).content.decode(),
    }
    assert "Sent &lt;fine&gt;" in pages["panel"] and "bad &lt;note&gt;" in pages["health"]
    errors = _vnu_errors(pages, tmp_path)
    assert not errors, "\n".join(errors)


def test_the_notes_sweep_command_sends_what_is_due(fake_vitally, vitally_account, account, ie):
    from io import StringIO

    from django.core.management import call_command

    _entry(account, ie, title="One")
    _entry(account, ie, title="Two")
    out = StringIO()
    call_command("vitally_notes_sweep", stdout=out)
    assert out.getvalue() == "Notes: 2 sent.\n"
    assert sorted(n["subject"] for n in fake_vitally.notes_list()) == ["One", "Two"]
    out = StringIO()
    call_command("vitally_notes_sweep", stdout=out)
    assert out.getvalue() == "Notes: nothing due.\n"
