"""An implementation note's form says whether the note goes to Vitally, before it is written."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db
NOTICE = 'class="meta note-to-vitally"'


def _notice(client, url: str) -> str:
    html = client.get(url).content.decode()
    if NOTICE not in html:
        return ""
    start = html.index(NOTICE)
    return " ".join(html[start : html.index("</p>", start)].split())


def test_the_note_form_says_it_goes_to_vitally_and_other_logs_say_nothing(
    client_for, account, ie, settings
):
    settings.VITALLY_NOTES_ENABLED = True
    settings.VITALLY_NOTE_CATEGORIES = ["all"]
    client = client_for(ie)
    url = reverse("logs:journal_create", args=[account.pk])
    assert "This note goes to the account's notes in Vitally, and a correction updates it" in (
        _notice(client, url)
    )
    settings.VITALLY_NOTE_CATEGORIES = ["upper_limits", "engineering_involvement"]
    assert (
        "A note in one of the categories Upper limits discussed, Engineering involvement goes"
        in _notice(client, url)
    )
    account.vitally_account_id = ""
    account.save(update_fields=["vitally_account_id"])
    assert "once the account is linked to Vitally" in _notice(client, url)
    assert _notice(client, reverse("logs:issue_create", args=[account.pk])) == ""
    settings.VITALLY_NOTES_ENABLED = False
    assert _notice(client, url) == ""
