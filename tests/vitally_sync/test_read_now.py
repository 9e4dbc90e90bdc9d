"""The Vitally panel's "Read Vitally back now": who is offered it and who may press it in each
phase, what it queues (on the real Redis broker), its refusals, the broker being down, the
panel polling until the read lands; and the panel's notice, which lives outside the polled
panel so its polling never removes it."""

import json
import logging
import time

import pytest
import redis
from django.urls import reverse
from django.utils import timezone

from handoff.audit.models import AuditEvent
from handoff.celery import app
from tests.phases import phase_move
from tests.vitally_sync.conftest import free_port
from vitally_sync.models import AccountSync
from vitally_sync.services import sync_account_push
from vitally_sync.views import READ_WAIT_SECONDS

pytestmark = pytest.mark.django_db
READ_TASK = "vitally_sync.account_read_back"


@pytest.fixture
def broker(settings):
    """The test run's Redis broker, emptied before and after: what the button queued is there."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    app.control.purge()
    yield client
    app.control.purge()


def queued_reads(broker) -> list[str]:
    """The account ids (as Celery shows its arguments) of the read backs waiting in the queue."""
    reads = []
    for raw in broker.lrange("celery", 0, -1):
        headers = json.loads(raw)["headers"]
        if headers["task"] == READ_TASK:
            reads.append(headers["argsrepr"])
    return reads


@pytest.fixture
def pushed(fake_vitally, account):
    fake_vitally.account_create(external_id=account.vitally_account_id, name=account.name)
    sync_account_push(account_id=account.pk)
    return account


def read_url(account) -> str:
    return reverse("vitally_sync:read", args=[account.pk])


def panel_url(account) -> str:
    return reverse("vitally_sync:panel", args=[account.pk])


# Who keeps the record (and managers and admins always): the implementation engineer before
# handoff, the technical advisor after it.
OFFERED = {
    "implementation": {"ie": True, "ta": False, "manager": True, "admin_user": True},
    "handed_off": {"ie": False, "ta": True, "manager": True, "admin_user": True},
}


@pytest.mark.parametrize("phase", sorted(OFFERED))
@pytest.mark.parametrize("role", ["ie", "ta", "manager", "admin_user"])
def test_read_now_is_offered_to_and_accepted_from_whoever_keeps_the_record_in_each_phase(
    request, client_for, pushed, manager, broker, phase, role
):
    if phase != "implementation":
        phase_move(account=pushed, actor=manager, to=phase)
    user = request.getfixturevalue(role)
    client = client_for(user)
    page = client.get(reverse("accounts:detail", args=[pushed.pk])).content.decode()
    vitally_page = client.get(panel_url(pushed)).content.decode()
    expected = OFFERED[phase][role]
    assert ("Read Vitally back now" in page) is expected
    assert ("Read Vitally back now" in vitally_page) is expected

    response = client.post(read_url(pushed), {"summary": "1"})
    if expected:
        assert response.status_code == 302
        assert response["Location"] == reverse("accounts:detail", args=[pushed.pk]) + "#vitally"
        assert queued_reads(broker) == [f"({pushed.pk},)"]
        event = AuditEvent.objects.get(action=AuditEvent.Kind.ACTION)
        assert event.actor == user and event.message == "Asked for a read back from Vitally now."
        followed = client.get(response["Location"]).content.decode()
        assert "Read back requested: a worker reads this account" in followed
    else:
        assert response.status_code == 403
        assert queued_reads(broker) == []
        assert not AuditEvent.objects.filter(action=AuditEvent.Kind.ACTION).exists()


def test_another_implementation_engineer_is_not_offered_it_nor_let_press_it(
    client_for, pushed, broker
):
    from handoff.people.models import User
    from tests.factories import UserFactory

    other = UserFactory(username="other-ie", role=User.Role.IMPLEMENTATION_ENGINEER)
    client = client_for(other)
    assert "Read Vitally back now" not in client.get(panel_url(pushed)).content.decode()
    assert client.post(read_url(pushed), HTTP_HX_REQUEST="true").status_code == 403
    assert queued_reads(broker) == []


def test_read_now_is_post_only_and_needs_a_real_account(client_for, pushed, ie):
    client = client_for(ie)
    assert client.get(read_url(pushed)).status_code == 405
    assert client.post(reverse("vitally_sync:read", args=[999999])).status_code == 404


def test_without_a_configured_sync_it_is_refused_and_nothing_is_queued(
    client_for, pushed, ie, broker, settings
):
    settings.VITALLY_BASE_URL = ""
    client = client_for(ie)
    assert "Read Vitally back now" not in client.get(panel_url(pushed)).content.decode()
    response = client.post(read_url(pushed), HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert 'role="alert"' in page
    assert "The Vitally sync is not configured: nothing was read." in page
    assert "read=" not in page  # nothing to wait for: the panel does not poll
    assert queued_reads(broker) == []
    assert not AuditEvent.objects.filter(action=AuditEvent.Kind.ACTION).exists()


def test_an_unlinked_account_is_refused_and_nothing_is_queued(
    client_for, pushed, ie, broker, fake_vitally
):
    from handoff.accounts.models import Account

    Account.objects.filter(pk=pushed.pk).update(vitally_account_id="")
    response = client_for(ie).post(read_url(pushed), follow=True)
    assert "This account has no Vitally account id: nothing was read." in response.content.decode()
    assert queued_reads(broker) == []


def test_broker_down_the_request_still_answers_and_says_the_scheduled_read_will_do_it(
    client_for, pushed, ie, caplog
):
    original = app.conf.broker_url
    app.conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    app._after_fork()
    try:
        with caplog.at_level(logging.WARNING):
            response = client_for(ie).post(read_url(pushed), HTTP_HX_REQUEST="true")
    finally:
        app.conf.broker_url = original
        app._after_fork()
    page = response.content.decode()
    assert response.status_code == 200
    assert "could not be queued just now: the scheduled read will do it." in page
    assert "read=" not in page  # nothing is on its way: no polling
    assert "Could not queue the Vitally read back" in caplog.text


def test_over_htmx_the_panel_polls_until_the_read_lands_then_says_what_was_found(
    client_for, pushed, ie, broker, fake_vitally
):
    client = client_for(ie)
    before = time.time()
    response = client.post(read_url(pushed), {"summary": "1"}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    # The notice goes to the live region above the panel, out of band.
    assert '<div id="vitally-notice" hx-swap-oob="innerHTML"><p class="notice" role="status">' in (
        page
    )
    assert "Read back requested" in page
    poll = page.split('data-hx-get="')[1].split('"')[0].replace("&amp;", "&")
    assert poll.startswith(panel_url(pushed) + "?summary=1&read=")
    asked = float(poll.split("read=")[1])
    assert before <= asked <= time.time()

    # Not read yet: the panel keeps polling, and its render leaves the notice alone.
    waiting = client.get(poll, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-hx-trigger="every 2s"' in waiting and "read=" in waiting
    assert "vitally-notice" not in waiting

    # A worker read it, and Vitally holds something else for Total CPU.
    AccountSync.objects.filter(pk=pushed.pk).update(reconciled_at=timezone.now(), differences=0)
    landed = client.get(poll, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in landed  # it landed: no more polling
    assert 'hx-swap-oob="innerHTML"' in landed
    assert "Read back from Vitally just now: every field holds the portal&#x27;s value." in landed
    assert 'id="vitally-notes"' not in landed  # the account page has no notes table


def test_landing_on_the_vitally_page_refreshes_its_notes_table_too(client_for, pushed, ie, broker):
    client = client_for(ie)
    page = client.post(read_url(pushed), HTTP_HX_REQUEST="true").content.decode()
    poll = page.split('data-hx-get="')[1].split('"')[0].replace("&amp;", "&")
    assert "summary" not in poll
    AccountSync.objects.filter(pk=pushed.pk).update(reconciled_at=timezone.now())
    landed = client.get(poll, HTTP_HX_REQUEST="true").content.decode()
    assert '<section id="vitally-notes"' in landed and 'hx-swap-oob="true">' in landed


def test_a_read_that_does_not_land_in_time_stops_the_polling_and_says_so(client_for, pushed, ie):
    asked = time.time() - READ_WAIT_SECONDS - 1
    page = (
        client_for(ie)
        .get(f"{panel_url(pushed)}?read={asked:.3f}", HTTP_HX_REQUEST="true")
        .content.decode()
    )
    assert "hx-trigger" not in page
    assert "has not been read back yet" in page and "the scheduled read will do it" in page


@pytest.mark.parametrize("read", ["yesterday", "0", "1e30", "nan"])
def test_an_old_or_forged_polling_address_is_the_plain_panel(client_for, pushed, ie, read):
    page = (
        client_for(ie)
        .get(f"{panel_url(pushed)}?read={read}", HTTP_HX_REQUEST="true")
        .content.decode()
    )
    assert "hx-trigger" not in page and "vitally-notice" not in page


def test_the_pages_have_the_live_region_and_a_refusal_without_javascript_fills_it(
    client_for, pushed, ie, ta
):
    account_page = client_for(ie).get(reverse("accounts:detail", args=[pushed.pk]))
    assert '<div id="vitally-notice" class="vitally-notice"></div>' in account_page.content.decode()
    # Take all, refused (nothing shown was taken), without JavaScript: the Vitally page again,
    # the reason in the live region.
    page = client_for(ie).post(
        reverse("vitally_sync:differences_take_all", args=[pushed.pk]), {"shown": "nonsense"}
    )
    html = page.content.decode()
    region = html.split('<div id="vitally-notice" class="vitally-notice">')[1].split("</div>")[0]
    assert 'role="alert"' in region


def test_push_now_puts_its_notice_out_of_band_and_a_poll_does_not_remove_it(client_for, pushed, ie):
    client = client_for(ie)
    pushed_page = client.post(
        reverse("vitally_sync:push", args=[pushed.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert '<div id="vitally-notice" hx-swap-oob="innerHTML">' in pushed_page
    inside = pushed_page.split('id="vitally-panel"')[1]
    assert "Push requested" not in inside  # not in the panel, which polls itself away
    poll = pushed_page.split('data-hx-get="')[1].split('"')[0]
    assert "vitally-notice" not in client.get(poll, HTTP_HX_REQUEST="true").content.decode()
