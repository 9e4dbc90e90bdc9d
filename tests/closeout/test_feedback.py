"""Issue 14, item 5: "Request handoff" says whom it e-mailed and that no TA is assigned when
none is, keeps the remaining blockers in view, and asks before requesting with blockers."""

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils.html import escape

from handoff.accounts.models import Account
from handoff.mail.models import OutgoingEmail
from handoff.record import account_record_get

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


def test_what_is_missing_stays_in_view_after_the_request(client_for, account, ie, started):
    # Counted in the readiness block's unit, the rule: the note beside it never says 15 where
    # the block shows 5 lines.
    client = client_for(ie)
    before = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    count = int(re.search(r'id="blockers-remain">(\d+) rules not met', before).group(1))
    assert count == len(re.findall(r'<li class="rule-unmet">', before)) > 1
    message = request_handoff(client, account)
    assert f"{count} rules not met: the manager signs off once they are met" in message
    account.refresh_from_db()
    assert account.phase == Account.Phase.READY_FOR_HANDOFF
    after = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert f'id="blockers-remain">{count} rules not met' in after
    assert 'href="#readiness">See what is missing</a>' in after


def _confirm(client, account, **headers):
    url = reverse("closeout:handoff_request_confirm", args=[account.pk])
    return client.get(url, {"next": f"/accounts/{account.pk}/"}, **headers)


def test_request_handoff_asks_first_on_the_server(client_for, account, ie, started):
    """The button leads to a confirmation the server renders (a page without JavaScript, under
    the button with htmx) that names what is missing one line per rule, as the readiness block
    does, but the technical advisor's acknowledgement, which comes after the request."""
    client = client_for(ie)
    page = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    button = re.search(r'<a class="button primary" id="request-handoff"[^>]*>', page).group(0)
    confirm_url = reverse("closeout:handoff_request_confirm", args=[account.pk])
    assert f'href="{confirm_url}?next=' in button and "data-hx-get" in button
    assert "/handoff/request/" not in page.replace(confirm_url, "")  # nothing posts unasked

    response = _confirm(client, account)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    listed = html[html.index('<ul class="rule-lines">') :]
    lines = re.findall(r"<li>(.*?)</li>", listed[: listed.index("</ul>")])
    record_lines = [
        r.summary
        for r in account_record_get(account.pk).readiness.unmet
        if r.rule.cleared_by != "technical_advisor"
    ]
    assert lines == [escape(line) for line in record_lines]
    assert f"{len(started)} of {len(started)} checklist items open" in record_lines
    assert f"Request handoff with {len(record_lines)} readiness rules not met?" in html
    assert "The technical advisor acknowledges the account after the request." in html
    request_url = reverse("closeout:handoff_request", args=[account.pk])
    assert f'<form method="post" action="{request_url}"' in html
    account.refresh_from_db()
    assert account.phase == Account.Phase.IMPLEMENTATION  # asking changes nothing

    inline = _confirm(client, account, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in inline and "data-confirm-step" in inline


def test_the_confirmation_is_refused_to_whoever_may_not_request(client_for, account, ta, started):
    assert _confirm(client_for(ta), account).status_code == 403


def test_a_checklist_change_refreshes_the_blockers_note(client_for, account, ie, started):
    item = started[0]
    response = client_for(ie).post(
        reverse("closeout:checklist_item", args=[account.pk, item.pk]),
        {"item-1-version": "1", "item-1-status": "done"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert re.search(
        r'<p class="meta request-note" id="blockers-remain" data-hx-swap-oob="true">'
        r"\d+ rules not met",
        html,
    )
