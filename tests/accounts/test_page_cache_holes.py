"""Page cache holes: things the account page / handoff page show that change without
Account.change_version, the AccountSync row, the viewer or their review changing.

Each test views the page once (rendered and cached), makes one write, and views it again.
Found by an independent review of the page cache; each failed before its part of the key."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from handoff.closeout.services import completion_reminder_send, handoff_mark_reviewed
from handoff.people.models import User
from vitally_sync.services import sync_push_request

pytestmark = pytest.mark.django_db


def _handoff(account):
    return reverse("closeout:handoff", args=[account.pk])


def _detail(account):
    return reverse("accounts:detail", args=[account.pk])


def _history(html: str) -> str:
    return html[html.index('<section id="history"') :].split("</section>", 1)[0]


@pytest.mark.parametrize("url", [_detail, _handoff], ids=["account page", "handoff page"])
def test_renaming_a_person_in_the_admin_shows_on_the_next_view(
    client_for, account, ta, manager, admin_user, url
):
    viewer = client_for(manager)
    assert str(ta) in viewer.get(url(account)).content.decode()  # rendered and kept
    # A staff user renames the TA in the people admin (no service, no change_version bump).
    admin = Client()  # client_for re-logs the one test client: the admin needs its own
    admin.force_login(admin_user)
    response = admin.post(
        reverse("admin:people_user_change", args=[ta.pk]),
        {
            "username": ta.username,
            "first_name": "Renamed",
            "last_name": "Advisor",
            "email": ta.email,
            "role": User.Role.TECHNICAL_ADVISOR,
            "is_active": "on",
            "date_joined_0": f"{ta.date_joined:%Y-%m-%d}",
            "date_joined_1": f"{ta.date_joined:%H:%M:%S}",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.get(pk=ta.pk).get_full_name() == "Renamed Advisor"
    page = viewer.get(url(account)).content.decode()
    assert "Renamed Advisor" in page


@pytest.mark.parametrize("url", [_detail, _handoff], ids=["account page", "handoff page"])
def test_someone_elses_review_shows_in_history_on_the_next_view(
    client_for, account, ta, manager, url
):
    viewer = client_for(manager)
    assert "Marked the handoff reviewed" not in viewer.get(url(account)).content.decode()
    handoff_mark_reviewed(account=account, actor=ta)  # audit event, no change_version bump
    page = viewer.get(url(account)).content.decode()
    assert "Marked the handoff reviewed" in _history(page)


def test_the_reviewers_own_account_page_shows_their_review_in_history(client_for, account, ta):
    viewer = client_for(ta)
    viewer.get(_detail(account))
    handoff_mark_reviewed(account=account, actor=ta)
    assert "Marked the handoff reviewed" in _history(viewer.get(_detail(account)).content.decode())


@pytest.mark.parametrize("url", [_detail, _handoff], ids=["account page", "handoff page"])
def test_the_completion_reminder_shows_in_history_on_the_next_view(
    client_for, account, manager, url
):
    today = timezone.localdate()
    account.planned_completion_date = today + datetime.timedelta(days=10)
    account.save(update_fields=["planned_completion_date"])
    viewer = client_for(manager)
    assert "planned completion reminder" not in viewer.get(url(account)).content.decode()
    assert completion_reminder_send(account_id=account.pk, today=today)  # beat, daily
    page = viewer.get(url(account)).content.decode()
    assert "Sent the planned completion reminder" in _history(page)


def test_a_second_push_now_shows_in_history(client_for, account, ie, manager):
    # The worker has not picked the first one up yet (broker down, worker busy): the sync row
    # already says push_requested=True, next_attempt_at=None, so the second request changes it
    # not at all, but writes a second audit event.
    sync_push_request(account=account, actor=ie)
    viewer = client_for(manager)
    first = _history(viewer.get(_detail(account)).content.decode())
    assert first.count("Asked for a push to Vitally now.") == 1
    sync_push_request(account=account, actor=ie)
    again = _history(viewer.get(_detail(account)).content.decode())
    assert again.count("Asked for a push to Vitally now.") == 2
