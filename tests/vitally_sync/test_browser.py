"""A manager edits an account and watches the change arrive in Vitally: the badge turns
synced by itself, Push now re-sends; a broken Vitally id needs attention, with the reason."""

import re

import pytest
from celery.contrib.testing.worker import start_worker
from playwright.sync_api import expect

from handoff.accounts.services import account_create
from handoff.celery import app
from handoff.people.models import User
from tests.browser.helpers import assert_accessible, sign_in
from tests.factories import UserFactory
from tests.vitally_sync.conftest import assert_vitally_has

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker():
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=60):
        yield
    app.control.purge()


def test_change_arrives_in_vitally_and_the_badge_turns_synced(
    page, live_server, screenshot, fake_vitally, worker
):
    manager = UserFactory(
        username="maya", first_name="Maya", last_name="Nakamura", role=User.Role.MANAGER
    )
    fake_vitally.account_create(external_id="acme-robotics", name="Acme Robotics")
    account = account_create(
        actor=manager, name="Acme Robotics", vitally_account_id="acme-robotics", manager=manager
    )
    broken = account_create(
        actor=manager, name="Borealis Bank", vitally_account_id="borealis-typo", manager=manager
    )
    sign_in(page, live_server, "maya")
    page.get_by_role("link", name="Accounts", exact=True).click()

    rows = page.locator("#account-rows tbody tr")
    expect(page.get_by_role("columnheader", name="Vitally")).to_be_visible()
    page.wait_for_timeout(500)
    page.reload()
    expect(rows.filter(has_text="Acme Robotics").locator(".sync-synced")).to_have_text("Synced")
    expect(rows.filter(has_text="Borealis Bank").locator(".badge.bad")).to_have_text(
        "Needs attention"
    )
    assert_accessible(page)
    screenshot("vitally-dashboard")

    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    page.get_by_role("link", name="Request handoff…").click()  # asks first, under the button
    page.get_by_role("button", name="Request handoff anyway").click()
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    panel = page.locator("#vitally-panel")
    expect(panel.get_by_role("heading", name="Vitally", exact=True)).to_be_visible()
    screenshot("vitally-panel-pending")
    # htmx refreshes the panel until the worker has pushed the change.
    expect(panel.locator(".badge")).to_have_text("Synced", timeout=20_000)
    expect(page.locator(f"#vitally-badge-{account.pk}")).to_have_text("Synced")  # the header
    assert_vitally_has(fake_vitally, "acme-robotics", account, phase="Handoff requested")
    assert_accessible(page)
    screenshot("vitally-panel-synced")
    panel.get_by_role("link", name=re.compile("Vitally details")).click()  # the Vitally page
    expect(panel).to_contain_text("Vitally holds every value the portal shows: nothing to send.")
    assert_accessible(page)
    screenshot("vitally-page-synced")

    puts = len(fake_vitally.puts("acme-robotics"))
    panel.get_by_role("button", name="Push now").click()
    # The message sits above the panel, which polls itself until the push lands: it stays.
    expect(page.locator("#vitally-notice")).to_contain_text("Push requested")
    expect(panel.locator(".badge")).to_have_text("Synced", timeout=20_000)
    expect(page.locator("#vitally-notice")).to_contain_text("Push requested")
    assert len(fake_vitally.puts("acme-robotics")) == puts + 1

    page.goto(f"{live_server.url}/accounts/{broken.pk}/vitally/")
    panel = page.locator("#vitally-panel")
    expect(panel.locator(".badge")).to_have_text("Needs attention")
    expect(panel).to_contain_text(
        re.compile(r"Vitally has no account “borealis-typo” \(HTTP 404\)")
    )
    panel.get_by_text("The portal and Vitally").scroll_into_view_if_needed()
    assert_accessible(page)
    screenshot("vitally-panel-needs-attention")
