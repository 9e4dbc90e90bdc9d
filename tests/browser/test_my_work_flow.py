"""My work after real actions by the other roles, in Chromium: the engineer requests handoff on
the handoff page, the account shows up for the technical advisor (waiting for their
acknowledgement, with the request among the changes since their last review) and for the
manager (ready for sign-off); the advisor marks the handoff reviewed and their changes list
clears. The top bar's count follows. axe at 1366 px and at 390 px, where no page scrolls
sideways (the lists' tables scroll in their own box)."""

import pytest
from playwright.sync_api import expect

from handoff.closeout import services as closeout_services
from handoff.people.models import User
from tests.browser.helpers import assert_accessible, sign_in
from tests.factories import AccountFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Handoff")).to_be_visible()


def assert_no_sideways_scroll(page):
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')]"
        ".filter(e => e.getBoundingClientRect().right > 391)"
        ".map(e => e.tagName + '.' + e.className).slice(0, 8)"
    )
    assert width <= 390, (width, wide)
    assert_accessible(page)
    page.set_viewport_size({"width": 1366, "height": 900})


def test_my_work_follows_the_other_roles_actions(page, live_server, template, screenshot):
    ie = UserFactory(
        username="ie",
        first_name="Irene",
        last_name="Ekwueme",
        role=User.Role.IMPLEMENTATION_ENGINEER,
    )
    ta = UserFactory(
        username="ta", first_name="Tomas", last_name="Alvarez", role=User.Role.TECHNICAL_ADVISOR
    )
    manager = UserFactory(
        username="manager", first_name="Maya", last_name="Nakamura", role=User.Role.MANAGER
    )
    account = AccountFactory(
        name="Northwind Traders", implementation_engineer=ie, technical_advisor=ta, manager=manager
    )
    closeout_services.checklist_start(account=account, actor=ie)
    # The advisor looked at the handoff once, early on.
    closeout_services.handoff_mark_reviewed(account=account, actor=ta)

    # --- ie: My work is the landing page; the account and its next step ------------------------
    sign_in(page, live_server, "ie")
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="My work", level=1)).to_be_visible()
    mine = page.locator("#my-accounts")
    expect(mine.get_by_role("link", name="Northwind Traders", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="My work (1)")).to_be_visible()
    assert_accessible(page)
    screenshot("my-work-ie")
    assert_no_sideways_scroll(page)
    page.get_by_role("link", name="Accounts", exact=True).click()
    expect(page.get_by_role("heading", name="Accounts", level=1)).to_be_visible()
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    page.get_by_role("link", name="Request handoff…").click()  # asks first, under the button
    page.get_by_role("button", name="Request handoff anyway").click()
    expect(page.get_by_text("Handoff requested.")).to_be_visible()
    page.get_by_role("link", name="My work").first.click()
    # Requested, it stays hers until the sign-off: its blockers are still hers to clear.
    expect(page.locator("#my-accounts")).to_contain_text("Handoff requested")
    sign_out(page)

    # --- ta: waiting for acknowledgement, and the request among the changes ---------------------
    sign_in(page, live_server, "ta")
    expect(
        page.locator("#acknowledge").get_by_role("link", name="Northwind Traders", exact=True)
    ).to_be_visible()
    changes = page.locator("#changes")
    expect(changes).to_contain_text("Northwind Traders")
    expect(changes.get_by_role("link", name="1 change")).to_be_visible()
    expect(page.get_by_role("link", name="My work (2)")).to_be_visible()
    assert_accessible(page)
    screenshot("my-work-ta")
    assert_no_sideways_scroll(page)
    changes.get_by_role("link", name="1 change").click()
    page.get_by_role("button", name="Mark handoff reviewed").click()
    expect(page.get_by_text("No changes by others since your review.")).to_be_visible()
    page.get_by_role("link", name="My work").first.click()
    expect(page.locator("#changes")).to_have_count(0)
    expect(page.locator("#acknowledge")).to_contain_text("Northwind Traders")
    expect(page.get_by_role("link", name="My work (1)")).to_be_visible()
    sign_out(page)

    # --- manager: ready for sign-off, with its blockers ----------------------------------------
    sign_in(page, live_server, "manager")
    sign_off = page.locator("#sign-off")
    expect(sign_off.get_by_role("link", name="Northwind Traders", exact=True)).to_be_visible()
    expect(
        sign_off.get_by_role("link", name="Review for sign-off Northwind Traders")
    ).to_be_visible()
    assert_accessible(page)
    screenshot("my-work-manager")
    assert_no_sideways_scroll(page)
