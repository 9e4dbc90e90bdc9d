"""The panel's "Read Vitally back now" end to end: a real Celery worker on the test database
(Redis broker), the fake Vitally over HTTP, and no beat: only the button reads. A hand edit in
the fake, of a trait and of a sent note, is found within seconds of the button, not 6 hours
later."""

import pytest
from django.urls import reverse

from logs.services import journal_entry_create
from tests.vitally_sync.conftest import CPU, deployed_and_pushed
from tests.vitally_sync.test_e2e import clean_broker, wait_for, worker  # noqa: F401  (fixture)
from vitally_sync.models import AccountSync, NoteSync, TraitDifference
from vitally_sync.notes import note_push

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_hand_edit_in_vitally_is_found_after_the_button_not_at_the_next_scheduled_read(
    fake_vitally, settings, account, ie, client
):
    settings.VITALLY_NOTES_ENABLED = True
    settings.VITALLY_NOTE_CATEGORIES = ["all"]
    settings.PORTAL_BASE_URL = "https://handoff.example.com"
    settings.VITALLY_RECONCILE_SECONDS = 21600  # nothing is due for a scheduled read
    deployed_and_pushed(fake_vitally, ie, account)
    entry = journal_entry_create(account=account, author=ie, title="Upper limits", body="1,200")
    external_id = f"handoff-note-{entry.pk}"
    note_push(external_id=external_id)
    sent = NoteSync.objects.get(external_id=external_id)
    assert sent.vitally_note_id and not sent.due
    # Someone changes Total CPU and the note by hand in Vitally's UI.
    fake_vitally.hand_edit(account.vitally_account_id, {CPU: 64})
    fake_vitally.note_hand_edit(sent.vitally_note_id, note="<p>900 users</p>")
    assert AccountSync.objects.get(pk=account.pk).reconciled_at is None

    client.force_login(ie)
    with worker():
        response = client.post(
            reverse("vitally_sync:read", args=[account.pk]), HTTP_HX_REQUEST="true"
        )
        page = response.content.decode()
        assert "Read back requested" in page
        # The panel's own polling address, as htmx follows it every 2 s.
        poll = page.split('data-hx-get="')[1].split('"')[0].replace("&amp;", "&")

        def landed() -> str:
            polled = client.get(poll, HTTP_HX_REQUEST="true").content.decode()
            return polled if "hx-trigger" not in polled else ""

        assert wait_for(landed, timeout=30)
        polled = landed()
    assert "Read back from Vitally just now: 1 field differs in Vitally (below) and a note" in (
        polled
    )
    difference = TraitDifference.objects.get(account=account, trait_key=CPU)
    assert difference.vitally_value == 64 and difference.portal_value == 48
    assert "Differs in Vitally" in polled and "Take Vitally's value" in polled
    assert NoteSync.objects.get(external_id=external_id).in_vitally == "changed"
    # The Vitally page's notes table comes with it (out of band), the note held for a choice.
    notes = polled.split('<section id="vitally-notes"')[1]
    assert "<p>900 users</p>" in notes
