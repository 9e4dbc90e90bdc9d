"""Someone changed one implementation note in Vitally and archived another; the implementation
engineer sees both on the account's Vitally page ("Notes sent to Vitally"), with the portal's
text and Vitally's side by side, on a laptop and on a phone, and sends the portal's text."""

import pytest
from playwright.sync_api import expect

from handoff.common.services import ANY_VERSION
from handoff.people.models import User
from logs.services import journal_entry_create, journal_entry_update
from tests.browser.helpers import assert_accessible, sign_in
from tests.conftest import ARTIFACTS as ARTIFACTS_DIR
from tests.factories import AccountFactory, UserFactory
from vitally_sync.models import NoteSync
from vitally_sync.note_reconcile import notes_read_back
from vitally_sync.notes import note_push

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def differing(fake_vitally, settings):
    settings.VITALLY_NOTES_ENABLED = True
    settings.VITALLY_NOTE_CATEGORIES = ["all"]
    irene = UserFactory(
        username="irene", first_name="Irene", last_name="Adler",
        role=User.Role.IMPLEMENTATION_ENGINEER,
    )  # fmt: skip
    account = AccountFactory(
        name="Acme Robotics", vitally_account_id="acme-robotics", implementation_engineer=irene
    )
    fake_vitally.account_create(external_id="acme-robotics", name="Acme Robotics")
    rows = []
    for title, body in (
        (
            "Upper limits agreed",
            "Up to **1,200** users and 3,400 repositories on the first deploy.",
        ),
        ("Rockskip enabled", "Rockskip is on for the monorepo; see https://docs.example.com/rs."),
        ("Externalised PostgreSQL", "RDS, db.r6g.xlarge."),
    ):
        entry = journal_entry_create(account=account, author=irene, title=title, body=body)
        row = NoteSync.objects.get(journal_entry=entry)
        assert note_push(external_id=row.external_id).outcome == "sent"
        rows.append(NoteSync.objects.get(pk=row.pk))
    fake_vitally.note_hand_edit(
        rows[0].vitally_note_id,
        subject="Upper limits (CSM's numbers)",
        note="<p>Up to <b>900</b> users, confirmed with the customer's platform team.</p>",
    )
    fake_vitally.note_hand_archive(rows[1].vitally_note_id)
    assert notes_read_back(due_only=False).found == {"agrees": 1, "archived": 1, "changed": 1}
    journal_entry_update(
        entry=rows[0].journal_entry,
        actor=irene,
        data={"body": "Up to **1,500** users after the sizing review."},
        expected_version=ANY_VERSION,
    )
    return account, rows


def test_notes_that_differ_show_both_texts_and_the_portals_text_is_sent(
    page, live_server, differing, fake_vitally
):
    account, rows = differing
    sign_in(page, live_server, "irene")
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    attention = page.locator("#attention")
    expect(attention).to_contain_text("2 notes differ in Vitally")
    attention.get_by_role("link", name="2 notes differ in Vitally").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/{account.pk}/vitally/#vitally-notes")
    notes = page.locator("#vitally-notes")
    changed = notes.locator(f"#vitally-note-{rows[0].pk}")
    expect(changed).to_contain_text("Changed in Vitally")
    decision = notes.locator(f"#vitally-note-{rows[0].pk} + tr.note-decision")
    expect(decision).to_contain_text("Up to 1,500 users after the sizing review.")
    expect(decision).to_contain_text("Up to 900 users, confirmed")
    expect(decision).to_contain_text("Upper limits (CSM's numbers)")
    expect(notes.locator(f"#vitally-note-{rows[1].pk}")).to_contain_text("Archived in Vitally")
    expect(notes.get_by_role("button", name="Send the portal's text")).to_have_count(2)
    expect(notes.get_by_role("button", name="Leave Vitally's note")).to_have_count(2)
    sent = notes.locator(f"#vitally-note-{rows[2].pk}")
    sent.get_by_text("Text sent").click()
    expect(sent).to_contain_text("RDS, db.r6g.xlarge.")
    assert_accessible(page)
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    notes.screenshot(path=str(ARTIFACTS_DIR / "vitally-notes-1366.png"))

    page.set_viewport_size({"width": 390, "height": 844})
    notes.scroll_into_view_if_needed()
    notes.screenshot(path=str(ARTIFACTS_DIR / "vitally-notes-390.png"))
    # Nothing in the notes' table sticks out of a phone's screen.
    wide = page.evaluate(
        """() => Array.from(document.querySelectorAll('#vitally-notes table *'))
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .map(e => e.tagName + '.' + e.className)"""
    )
    assert wide == [], wide
    assert_accessible(page)

    decision.get_by_role("button", name="Send the portal's text").click()
    expect(page.locator(".messages")).to_contain_text(
        "The portal's text of “Upper limits agreed” is sent to Vitally within seconds."
    )
    assert note_push(external_id=rows[0].external_id).outcome == "sent"
    note = next(n for n in fake_vitally.notes_list() if n["id"] == rows[0].vitally_note_id)
    assert note["subject"] == "Upper limits agreed"
    assert note["note"] == "<p>Up to <strong>1,500</strong> users after the sizing review.</p>"
    page.reload()
    expect(page.locator("#vitally-notes tr.note-decision")).to_have_count(1)  # the archived one
