"""Issue 14, item 6: one click marks a checklist item done (htmx, and a plain POST without
JavaScript); "Not applicable" asks for its reason only then; a settled item can be reopened."""

import re

import pytest
from django.urls import reverse

from handoff.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def item_url(account, item):
    return reverse("closeout:checklist_item", args=[account.pk, item.pk])


def test_one_click_done_saves_at_once_and_keeps_the_evidence(client_for, account, ie, started):
    item = started[0]
    item.evidence_note = "Runbook reviewed"
    item.save(update_fields=["evidence_note"])
    page = client_for(ie).get(reverse("accounts:detail", args=[account.pk])).content.decode()
    li = re.search(
        r'<li class="checklist-item status-open" id="checklist-item-1">.*?</li>', page, re.S
    )
    done_form = re.search(r"<form[^>]*>(?:(?!</form>).)*>Done<", li.group(0), re.S).group(0)
    # Exactly what the button posts: the version and the status, nothing else.
    posted = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', done_form))
    posted.pop("csrfmiddlewaretoken")
    assert posted == {"item-1-version": "1", "item-1-status": "done"}
    response = client_for(ie).post(item_url(account, item), posted, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.startswith('<li class="checklist-item status-done" id="checklist-item-1">')
    assert '<p class="saved" role="status">Saved.</p>' in html
    assert 'id="checklist-item-1-toggle">Reopen' in html  # focus stays on the same control
    item.refresh_from_db()
    assert (item.status, item.completed_by, item.evidence_note) == ("done", ie, "Runbook reviewed")


def test_one_click_done_without_javascript_redirects_back(client_for, account, ie, started):
    item = started[1]
    response = client_for(ie).post(
        item_url(account, item), {"item-2-version": "1", "item-2-status": "done"}
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#checklist-item-2")
    item.refresh_from_db()
    assert item.status == "done"


def test_the_reason_box_shows_only_under_not_applicable(client_for, account, ie, started):
    page = client_for(ie).get(reverse("accounts:detail", args=[account.pk])).content.decode()
    li = re.search(r'<li[^>]*id="checklist-item-1">.*?</li>', page, re.S).group(0)
    na = re.search(r'<details class="checklist-na">.*?</details>', li, re.S).group(0)
    assert "Reason it does not apply" in na
    assert li.count("Reason it does not apply") == 1  # nowhere else, not beside "Done"
    assert 'type="radio"' not in li


def test_not_applicable_without_a_reason_is_refused_beside_the_field(
    client_for, account, ie, started
):
    item = started[2]
    events = AuditEvent.objects.count()
    response = client_for(ie).post(
        item_url(account, item),
        {
            "item-3-version": "1",
            "item-3-status": "not_applicable",
            "item-3-not_applicable_reason": " ",
        },
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert html.startswith('<li class="checklist-item status-open" id="checklist-item-3">')
    assert '<details class="checklist-na" open>' in html
    assert (
        '<p class="error" id="id_item-3-not_applicable_reason_error">'
        "Say why this item does not apply to this account.</p>" in html
    )
    item.refresh_from_db()
    assert (item.status, item.version) == ("open", 1)
    assert AuditEvent.objects.count() == events
    response = client_for(ie).post(
        item_url(account, item),
        {
            "item-3-version": "1",
            "item-3-status": "not_applicable",
            "item-3-not_applicable_reason": "No SAML here.",
        },
        HTTP_HX_REQUEST="true",
    )
    item.refresh_from_db()
    assert (item.status, item.not_applicable_reason) == ("not_applicable", "No SAML here.")


def test_a_done_item_can_be_reopened(client_for, account, ie, started):
    item = started[3]
    client = client_for(ie)
    client.post(item_url(account, item), {"item-4-version": "1", "item-4-status": "done"})
    client.post(item_url(account, item), {"item-4-version": "2", "item-4-status": "open"})
    item.refresh_from_db()
    assert (item.status, item.completed_by, item.version) == ("open", None, 3)


def test_saving_evidence_keeps_the_status(client_for, account, ie, started):
    item = started[4]
    client = client_for(ie)
    client.post(item_url(account, item), {"item-5-version": "1", "item-5-status": "done"})
    client.post(
        item_url(account, item),
        {
            "item-5-version": "2",
            "item-5-evidence_url": "https://docs.example.com/x",
            "item-5-evidence_note": "",
        },
    )
    item.refresh_from_db()
    assert (item.status, item.evidence_url) == ("done", "https://docs.example.com/x")
