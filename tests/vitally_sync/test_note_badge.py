"""A note that differs in Vitally (changed, archived or deleted there, waiting for a person's
decision) makes the account's badge "Differs in Vitally" wherever it shows: "Synced" means
Vitally holds the portal's values, notes included. Real PostgreSQL and Redis, the fake Vitally
over HTTP; the note is found by the read back, as in production."""

import html as html_lib
import re

import pytest
from django.urls import reverse

from logs.services import journal_entry_create
from tests.query_budget import SYNC_HEALTH_QUERIES, account_page_queries, vitally_page_queries
from vitally_sync.conf import sync_config
from vitally_sync.models import AccountSync, NoteSync
from vitally_sync.note_reconcile import notes_read_back
from vitally_sync.notes import note_push
from vitally_sync.selectors import account_sync_of, differs_sentence, sync_badge
from vitally_sync.services import sync_account_push

pytestmark = pytest.mark.django_db


@pytest.fixture
def notes_on(settings, fake_vitally):
    settings.VITALLY_NOTES_ENABLED = True
    settings.VITALLY_NOTE_CATEGORIES = ["all"]
    settings.PORTAL_BASE_URL = "https://handoff.example.com"
    return fake_vitally


@pytest.fixture
def held(notes_on, deployed, ie):
    """The account pushed (every field in Vitally), and a note someone then changed in Vitally,
    found by the read back: it waits for a decision. Returns the note."""
    entry = journal_entry_create(account=deployed, author=ie, title="Limits", body="Up to 1,200.")
    row = NoteSync.objects.get(journal_entry=entry)
    assert note_push(external_id=row.external_id).outcome == "sent"
    # Whatever the note's save changed on the account goes too: only the note differs.
    sync_account_push(account_id=deployed.pk)
    row = NoteSync.objects.get(pk=row.pk)
    notes_on.note_hand_edit(row.vitally_note_id, note="<p>Up to 900.</p>")
    assert notes_read_back(due_only=False).found == {"changed": 1}
    sync = AccountSync.objects.get(pk=deployed.pk)
    assert (sync.differences, sync.note_decisions) == (0, 1)
    return NoteSync.objects.get(pk=row.pk)


def badge_of(account):
    account.refresh_from_db()
    return sync_badge(account=account, sync=account_sync_of(account), config=sync_config())


def text(html: str) -> str:
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def shown_badge(html: str, account) -> tuple[str, str, str]:
    found = re.search(
        rf'<span id="vitally-badge-{account.pk}" class="badge sync-(\w+) (\w+)" title="([^"]*)"'
        r"[^>]*>([^<]*)</span>",
        html,
    )
    assert found, html
    return found.group(1), found.group(4), html_lib.unescape(found.group(3))


def test_the_words_count_fields_and_notes():
    assert differs_sentence(fields=2, notes=1) == "2 fields and 1 note differ in Vitally"
    assert differs_sentence(fields=1, notes=0) == "1 field differs in Vitally"
    assert differs_sentence(fields=0, notes=1) == "1 note differs in Vitally"
    assert differs_sentence(fields=0, notes=3) == "3 notes differ in Vitally"


def test_a_held_note_alone_makes_the_badge_differ_until_someone_decides(held, client_for, ie):
    account = held.account
    badge = badge_of(account)
    assert (badge.state, badge.label) == ("differs", "Differs in Vitally")
    assert badge.title == (
        "1 note differs in Vitally: send the portal's text or leave Vitally's note (the notes "
        "on the account's Vitally page)."
    )
    assert "A note the portal sent was changed, archived or deleted in Vitally" in (
        badge.explanation
    )
    assert "fields below" not in badge.explanation  # no field differs
    # Leave Vitally's note: nothing waits, and the badge is Synced again.
    url = reverse("vitally_sync:note_leave", args=[account.pk, held.pk])
    assert client_for(ie).post(url, {"version": held.read_version}).status_code == 302
    assert badge_of(account).state == "synced"


def test_fields_and_notes_are_named_together(held):
    AccountSync.objects.filter(pk=held.account_id).update(differences=2)
    badge = badge_of(held.account)
    assert badge.title.startswith(
        "2 fields and 1 note differ in Vitally: for the fields, keep the portal's value or "
        "take Vitally's"
    )
    assert "for the notes, send the portal's text or leave Vitally's note" in badge.title
    assert "The fields below differ in Vitally" in badge.explanation
    assert "A note the portal sent was changed" in badge.explanation


def test_the_dashboard_and_my_work_say_differs(held, client_for, ie):
    client = client_for(ie)
    for url in (reverse("accounts:dashboard"), reverse("accounts:my_work")):
        state, label, title = shown_badge(client.get(url).content.decode(), held.account)
        assert (state, label) == ("differs", "Differs in Vitally"), url
        assert title.startswith("1 note differs in Vitally"), url


def test_the_account_page_says_differs_and_which_note(
    held, client_for, ie, django_assert_num_queries
):
    client = client_for(ie)
    url = reverse("accounts:detail", args=[held.account_id])
    with django_assert_num_queries(account_page_queries()):
        page = client.get(url).content.decode()
    assert shown_badge(page, held.account)[:2] == ("differs", "Differs in Vitally")
    section = page[page.index('id="vitally-panel"') :]
    assert 'class="badge sync-differs warn"' in section[: section.index("</div>")]
    # The section's state sentence names the note, since no list of notes is shown there.
    assert "A note the portal sent was changed, archived or deleted in Vitally" in text(section)
    # The Vitally page says it too, above its notes table.
    with django_assert_num_queries(vitally_page_queries()):
        page = client.get(reverse("vitally_sync:panel", args=[held.account_id])).content.decode()
    assert "A note the portal sent was changed, archived or deleted in Vitally" in text(page)
    assert 'id="vitally-notes"' in page


def test_the_saved_message_names_the_note(held, client_for, ie):
    live = client_for(ie).get(reverse("vitally_sync:panel", args=[held.account_id]) + "?part=badge")
    body = text(live.content.decode())
    assert ">Synced<" not in live.content.decode()
    assert "Up to date but for notes: 1 note the portal sent was changed" in body
    panel = reverse("vitally_sync:panel", args=[held.account_id])
    assert f'<a href="{panel}#vitally-notes">the Vitally page</a>' in live.content.decode()


def test_the_sync_page_counts_it_as_trouble_and_links_the_notes(
    held, client_for, manager, django_assert_num_queries
):
    client = client_for(manager)
    with django_assert_num_queries(SYNC_HEALTH_QUERIES):
        response = client.get("/vitally/")
    health = response.context["health"]
    assert health.counts["differs"] == 1 and health.counts["synced"] == 0
    assert health.trouble == 1
    body = text(response.content.decode())
    assert "Any trouble 1" in body and "Differs in Vitally 1" in body
    [row] = health.rows
    assert (row.state, row.badge.state) == ("differs", "differs")
    assert row.since == held.in_vitally_since  # since the note was found changed
    panel = reverse("vitally_sync:panel", args=[held.account_id])
    assert f'<a href="{panel}#vitally-notes">1 note</a>' in response.content.decode()
    # Filtered to "Differs in Vitally" or to trouble, it is listed.
    for state in ("differs", "trouble"):
        rows = client.get(f"/vitally/?state={state}").context["health"].rows
        assert [r.account.pk for r in rows] == [held.account_id], state
    # With a field too: both counted, the link to the fields.
    AccountSync.objects.filter(pk=held.account_id).update(differences=2)
    page = client.get("/vitally/").content.decode()
    assert f'<a href="{panel}#vitally-differences">2 fields, 1 note</a>' in page
