"""Issue 14, item 5: the message after a save carries the live sync state, read from the sync
badge through the Vitally panel's endpoint, and polls until the push lands."""

import re

import pytest
from django.urls import reverse

from vitally_sync.conf import sync_config
from vitally_sync.selectors import account_sync_of, sync_badge

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
        r'<p class="message message-success">Account saved\. <span class="sync-live" '
        rf'data-hx-get="{re.escape(badge_url)}" data-hx-trigger="load"',
        page,
    ), page
    # The push waits for the commit (which a test's transaction never makes): still on its way,
    # so the badge polls; its text is the sync badge's.
    live = client.get(badge_url).content.decode()
    account.refresh_from_db()
    badge = sync_badge(account=account, sync=account_sync_of(account), config=sync_config())
    assert badge.state == "pending"
    assert f">{badge.label}</span></span>" in live
    assert live.startswith('<span class="sync-live" data-hx-get=')
    assert 'data-hx-trigger="every 2s"' in live


def test_a_settled_badge_stops_polling(client_for, account, ie):
    # Without Vitally configured the state is final at once: no poll.
    live = client_for(ie).get(f"/accounts/{account.pk}/vitally/?part=badge").content.decode()
    assert "Not configured" in live and "data-hx-get" not in live
