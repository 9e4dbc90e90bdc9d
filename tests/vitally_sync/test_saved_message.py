"""Issue 14, item 5: the message after a save carries the live sync state, read from the sync
badge through the Vitally panel's endpoint, and polls until the push lands."""

import re

import pytest
from django.urls import reverse

from deployments.services import environment_update
from handoff.common.services import ANY_VERSION
from tests.vitally_sync.conftest import production, production_data
from vitally_sync.conf import sync_config
from vitally_sync.selectors import account_sync_of, sync_badge
from vitally_sync.services import sync_account_push

pytestmark = pytest.mark.django_db


def edit_account(client, account):
    response = client.post(
        reverse("accounts:edit", args=[account.pk]),
        {
            "name": "Acme Robotics",
            "vitally_account_id": account.vitally_account_id,
            "implementation_engineer": account.implementation_engineer_id,
            "technical_advisor": account.technical_advisor_id,
            "manager": account.manager_id,
            "planned_completion_date": "2027-02-01",
            "version": 1,
        },
        follow=True,
    )
    assert response.status_code == 200
    return response.content.decode()


def test_the_saved_message_carries_a_polled_sync_badge(client_for, account, ie, fake_vitally):
    client = client_for(ie)
    page = edit_account(client, account)
    badge_url = f"/accounts/{account.pk}/vitally/?part=badge"
    assert re.search(
        r'<p class="message message-success"><span class="message-text">Account saved\. '
        r'<span class="sync-live" '
        rf'data-hx-get="{re.escape(badge_url)}" data-hx-trigger="load"',
        page,
    ), page
    # The push waits for the commit (which a test's transaction never makes): still on its way,
    # so the badge polls, and says so.
    live = client.get(badge_url).content.decode()
    account.refresh_from_db()
    badge = sync_badge(account=account, sync=account_sync_of(account), config=sync_config())
    assert badge.state == "pending"
    assert ">On its way</span>: a worker sends the change within seconds." in live
    assert live.startswith('<span class="sync-live" data-hx-get=')
    assert 'data-hx-trigger="every 2s"' in live


def test_a_settled_badge_stops_polling(client_for, account, ie):
    # Without Vitally configured the state is final at once: no poll.
    live = client_for(ie).get(f"/accounts/{account.pk}/vitally/?part=badge").content.decode()
    assert "Not configured" in live and "data-hx-get" not in live


def _live(client, account) -> str:
    return client.get(f"/accounts/{account.pk}/vitally/?part=badge").content.decode()


def test_while_the_push_is_on_its_way_the_message_says_so(client_for, hand_edited, ie):
    """A field that differs in Vitally does not make a fresh save read as a failure: until the
    push lands the message says the change is on its way, not "Differs in Vitally"."""
    client = client_for(ie)
    edit_account(client, hand_edited)
    live = _live(client, hand_edited)
    assert ">On its way</span>: a worker sends the change within seconds." in live
    assert "iffer" not in live and 'data-hx-trigger="every 2s"' in live


def test_after_the_push_a_real_difference_says_what_to_do_and_where(
    client_for, hand_edited, ie, ta
):
    """Vitally was read back holding another Total CPU: once the save's push lands, the message
    says Vitally is up to date but for that field, which to choose and where (the Vitally page);
    whoever may not choose is told who does."""
    client = client_for(ie)
    edit_account(client, hand_edited)  # nothing Vitally shows: the push finds nothing to send
    assert sync_account_push(account_id=hand_edited.pk).outcome.value == "unchanged"
    hand_edited.refresh_from_db()
    state = sync_badge(
        account=hand_edited, sync=account_sync_of(hand_edited), config=sync_config()
    ).state
    assert state == "differs"  # the badge elsewhere keeps naming the state
    live = _live(client, hand_edited)
    assert ">Up to date</span> but for 1 field someone changed there by hand (Total CPU)" in live
    assert "choose which value to keep on" in live
    assert f'<a href="/accounts/{hand_edited.pk}/vitally/#vitally-differences">' in live
    assert "data-hx-get" not in live  # settled: no more polling
    other = _live(client_for(ta), hand_edited)
    assert "whoever keeps this record chooses which value to keep on" in other


def test_editing_the_differing_field_is_never_called_a_difference(client_for, hand_edited, ie):
    """The person's own edit of the field that differs decides it: on its way, then synced."""
    environment_update(
        environment=production(hand_edited),
        actor=ie,
        data=production_data(total_cpu=96),
        expected_version=ANY_VERSION,
    )
    client = client_for(ie)
    assert "On its way" in _live(client, hand_edited)
    assert sync_account_push(account_id=hand_edited.pk).outcome.value == "pushed"
    live = _live(client, hand_edited)
    assert ">Synced</span>" in live and "iffer" not in live and "by hand" not in live
