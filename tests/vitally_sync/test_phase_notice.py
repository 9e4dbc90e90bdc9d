"""The sign-off and reopen forms say what the change does in Vitally before it is made."""

import pytest
from django.urls import reverse

from tests.phases import phase_move

pytestmark = pytest.mark.django_db


def _text(client, url: str) -> str:
    html = client.get(url).content.decode()
    start = html.index('class="meta vitally-phase-notice"')
    return " ".join(html[start : html.index("</p>", start)].split())


def test_sign_off_and_reopen_say_what_goes_to_vitally(
    client_for, account, manager, fake_vitally, settings
):
    settings.VITALLY_NOTES_ENABLED = True
    phase_move(account=account, actor=manager, to="ready_for_handoff")
    client = client_for(manager)
    sign_off = _text(client, reverse("closeout:sign_off", args=[account.pk]))
    assert "Handoff phase becomes “Handed off”" in sign_off
    assert "a “Handoff signed off” note is added" in sign_off
    phase_move(account=account, actor=manager, to="handed_off")
    reopen = _text(client, reverse("closeout:reopen", args=[account.pk]))
    assert "goes back to “Implementation”" in reopen
    assert "corrected to say it was reopened" in reopen


def test_without_notes_or_a_link_the_form_says_exactly_that(
    client_for, account, manager, fake_vitally, settings
):
    settings.VITALLY_NOTES_ENABLED = False
    phase_move(account=account, actor=manager, to="ready_for_handoff")
    client = client_for(manager)
    url = reverse("closeout:sign_off", args=[account.pk])
    assert "note" not in _text(client, url)
    account.vitally_account_id = ""
    account.save(update_fields=["vitally_account_id"])
    assert "not linked to a Vitally account: nothing goes to Vitally" in _text(client, url)
    settings.VITALLY_API_KEY = ""
    assert "sync is not configured" in _text(client, url)
