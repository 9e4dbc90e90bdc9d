"""Issue 14, item 5: "Request handoff" says whom it e-mailed and that no TA is assigned when
none is, keeps the remaining blockers in view, and asks before requesting with blockers."""

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from handoff.accounts.models import Account
from handoff.mail.models import OutgoingEmail

pytestmark = pytest.mark.django_db


def request_handoff(client, account):
    response = client.post(reverse("closeout:handoff_request", args=[account.pk]))
    assert response.status_code == 302
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


# Sending happens when the request's transaction commits: these tests let it commit.
@pytest.mark.django_db(transaction=True)
def test_request_names_whom_it_emailed(client_for, account, ie, ta, manager, started):
    message = request_handoff(client_for(ie), account)
    assert message.startswith(
        f"Handoff requested. E-mailed {ta} (technical advisor) and {manager} (manager)."
    )
    assert "No technical advisor" not in message


@pytest.mark.django_db(transaction=True)
def test_request_without_a_ta_says_so_and_does_not_claim_the_ta_was_emailed(
    client_for, account, ie, manager, started, mailoutbox
):
    Account.objects.filter(pk=account.pk).update(technical_advisor=None)
    message = request_handoff(client_for(ie), account)
    assert message.startswith(
        f"Handoff requested. E-mailed {manager} (manager). No technical advisor is assigned: "
        "nobody can acknowledge the account until one is (Edit account)."
    )
    assert "technical advisor)" not in message
    assert [m.to for m in mailoutbox] == [[manager.email]]
    assert OutgoingEmail.objects.get().to == [manager.email]


def test_the_blockers_stay_in_view_after_the_request(client_for, account, ie, started):
    client = client_for(ie)
    before = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    count = int(re.search(r'id="blockers-remain">(\d+) blockers remain', before).group(1))
    assert count > 1
    message = request_handoff(client, account)
    assert f"{count} blockers remain: the manager signs off once they are fixed" in message
    account.refresh_from_db()
    assert account.phase == Account.Phase.READY_FOR_HANDOFF
    for page in ("accounts:detail",):
        after = client.get(reverse(page, args=[account.pk])).content.decode()
        assert f'id="blockers-remain">{count} blockers remain' in after, page
        assert 'href="#readiness">See the blockers</a>' in after


def test_request_with_blockers_asks_first_naming_them(client_for, account, ie, started):
    # app.js asks before posting, naming the blockers #readiness lists at that moment (the
    # browser test answers the question); the page marks the form and lists them.
    page = client_for(ie).get(reverse("accounts:detail", args=[account.pk])).content.decode()
    form = re.search(r'<form[^>]*/handoff/request/"[^>]*>', page).group(0)
    assert "data-confirm-blockers" in form
    assert re.search(
        r'<div id="readiness".*?<ul class="rule-list">\s*<li[^>]*>\s*<a href=', page, re.S
    )


def test_a_checklist_change_refreshes_the_blockers_note(client_for, account, ie, started):
    item = started[0]
    response = client_for(ie).post(
        reverse("closeout:checklist_item", args=[account.pk, item.pk]),
        {"item-1-version": "1", "item-1-status": "done"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert re.search(
        r'<p class="meta request-note" id="blockers-remain" data-hx-swap-oob="true">\d+ blockers',
        html,
    )
