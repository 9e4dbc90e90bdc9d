"""'Changes since your last review': exactly what others changed after the TA's review."""

import datetime

import pytest
from django.urls import reverse

from handoff.accounts.services import account_update
from handoff.closeout import services
from handoff.closeout.models import HandoffReview
from handoff.closeout.review import changes_since_review
from handoff.common.services import ANY_VERSION

pytestmark = pytest.mark.django_db


def summary(changes):
    return [
        {
            "kind": g.kind,
            "what": f"{g.type_label}: {g.name}",
            "fields": [(f.label, f.before, f.after) for f in g.fields],
            "notes": g.notes,
            "by": g.actors,
        }
        for g in changes.groups
    ]


@pytest.fixture
def reviewed(account, ta):
    """Things done before the review do not show up afterwards."""
    account_update(
        account=account,
        actor=ta,
        data={"crm_url": "https://crm.example.com/a"},
        expected_version=ANY_VERSION,
    )
    return services.handoff_mark_reviewed(account=account, actor=ta)


def test_changes_since_review_exact_content(account, ie, ta, manager, template, reviewed):
    account_update(
        account=account,
        actor=ie,
        data={"name": "Acme Robotics Inc.", "planned_completion_date": datetime.date(2027, 3, 1)},
        expected_version=ANY_VERSION,
    )
    # Changed and changed back: not a change.
    account_update(
        account=account,
        actor=ie,
        data={"crm_url": "https://crm.example.com/b"},
        expected_version=ANY_VERSION,
    )
    account_update(
        account=account,
        actor=ie,
        data={"crm_url": "https://crm.example.com/a"},
        expected_version=ANY_VERSION,
    )
    items = services.checklist_start(account=account, actor=ie)
    indexing = items[4]
    indexing = services.checklist_item_update(
        item=indexing,
        actor=ie,
        data={"status": "done", "evidence_url": "https://docs.example.com/v1"},
        expected_version=ANY_VERSION,
    )
    services.checklist_item_update(
        item=indexing,
        actor=ie,
        data={"evidence_url": "https://docs.example.com/v2"},
        expected_version=ANY_VERSION,
    )
    services.handoff_acknowledge(account=account, actor=ta)  # the reviewer's own: not listed
    services.handoff_request(account=account, actor=manager)

    changes = changes_since_review(account_id=account.pk, review=reviewed)
    assert summary(changes) == [
        {
            "kind": "Changed",
            "what": "Account: Acme Robotics Inc.",
            "fields": [
                ("Account name", "Acme Robotics", "Acme Robotics Inc."),
                ("Planned completion date", None, "2027-03-01"),
                ("Phase", "Implementation", "Handoff requested"),
            ],
            "notes": ["Requested handoff"],
            "by": [str(ie), str(manager)],
        },
        {
            "kind": "Added",
            "what": "Closeout: Closeout of Acme Robotics Inc.",
            "fields": [("Closeout checklist", None, "Started with 11 items")],
            "notes": ["Started the closeout checklist"],
            "by": [str(ie)],
        },
        {
            "kind": "Changed",
            "what": "Checklist item: Indexing",
            "fields": [
                ("Status", "Open", "Done"),
                ("Evidence link", None, "https://docs.example.com/v2"),
            ],
            "notes": [],
            "by": [str(ie)],
        },
    ]
    assert changes.event_count == 7  # 3 account edits, start, 2 item edits, request


def test_the_handoff_page_shows_the_changes_to_the_reviewer(client_for, account, ie, ta, reviewed):
    account_update(
        account=account,
        actor=ie,
        data={"planned_completion_date": datetime.date(2027, 3, 1)},
        expected_version=ANY_VERSION,
    )
    page = client_for(ta).get(reverse("accounts:detail", args=[account.pk])).content.decode()
    section = page.split('id="changes"')[1].split("</section>")[0]
    assert "Changes since your last review" in section
    assert "<strong>Account: Acme Robotics</strong>" in section
    assert (
        '<tr><th scope="row">Planned completion date</th><td class="before">—</td>'
        '<td class="after">1 Mar 2027</td></tr>' in section
    )
    assert section.count('<tr><th scope="row">') == 1  # that one change, nothing else
    assert '<a href="#changes">1 change since your last review</a>' in page


def test_marking_reviewed_again_clears_the_list(client_for, account, ie, ta, reviewed):
    account_update(account=account, actor=ie, data={"name": "Acme 2"}, expected_version=ANY_VERSION)
    assert len(changes_since_review(account_id=account.pk, review=reviewed).groups) == 1
    response = client_for(ta).post(reverse("closeout:handoff_mark_reviewed", args=[account.pk]))
    assert response.status_code == 302
    review = HandoffReview.objects.get(account=account, reviewer=ta)
    assert review.through_event_id > reviewed.through_event_id
    assert changes_since_review(account_id=account.pk, review=review).groups == []
    page = client_for(ta).get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert "No changes by others since your review." in page


def test_someone_without_a_review_is_invited_to_review(client_for, account, ta):
    page = client_for(ta).get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert "You have not reviewed this handoff yet." in page
    assert "Mark handoff reviewed" in page


def test_the_list_is_the_reviewers_own(client_for, account, ie, manager, reviewed):
    account_update(account=account, actor=ie, data={"name": "Acme 2"}, expected_version=ANY_VERSION)
    # The manager has not reviewed (and cannot: it is the TA's act): no such section.
    page = client_for(manager).get(reverse("accounts:detail", args=[account.pk])).content
    assert b'id="changes"' not in page
    assert b"since your last review" not in page
