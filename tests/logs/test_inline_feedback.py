"""Issue 14, item 5: inline saves confirm in place; a second "It happened" says the risk was
already raised and changes nothing."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from handoff.audit.models import AuditEvent
from logs.models import Issue
from logs.services import issue_create, risk_create

pytestmark = pytest.mark.django_db


def url(name, account, *items):
    return reverse(f"logs:{name}", args=[account.pk, *[i.pk for i in items]])


def test_an_inline_status_change_confirms_in_place(client_for, account, ie):
    issue = issue_create(account=account, actor=ie, title="SAML loop", owner=ie)
    row = client_for(ie).post(
        url("issue_status", account, issue), {"status": "in_progress"}, HTTP_HX_REQUEST="true"
    )
    html = row.content.decode()
    assert html.lstrip().startswith(f'<tr id="issue-{issue.pk}"')
    assert (
        '<span class="inline-saved" role="status">Saved<span class="sr-only"> I-1</span></span>'
        in html
    )
    issue.refresh_from_db()
    assert issue.status == "in_progress"
    # The list itself shows no stale "Saved".
    page = client_for(ie).get(url("issue_list", account)).content.decode()
    assert '<span class="inline-saved" role="status"></span>' in page


def test_a_second_it_happened_says_it_was_already_raised_and_changes_nothing(
    client_for, account, ie
):
    risk = risk_create(
        account=account,
        actor=ie,
        title="Disk fills",
        description="Because …",
        likelihood=4,
        impact=5,
        owner=ie,
    )
    client = client_for(ie)
    first = client.post(url("risk_occurred", account, risk))
    issue = Issue.objects.get()
    assert first.status_code == 302
    events = AuditEvent.objects.count()
    second = client.post(url("risk_occurred", account, risk))
    assert second.status_code == 302 and second.url == issue.get_absolute_url()
    message = [(m.level_tag, str(m)) for m in get_messages(second.wsgi_request)]
    assert message == [  # the first press's message was never shown: no page loaded between
        ("success", "R-1 occurred: I-1 raised."),
        ("info", "R-1 already happened: I-1 was raised then. Nothing changed."),
    ]
    assert Issue.objects.count() == 1 and AuditEvent.objects.count() == events
