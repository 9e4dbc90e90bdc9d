"""An implementation engineer signs in, creates an account and finds it on the dashboard."""

import re

import pytest
from playwright.sync_api import expect

from handoff.accounts.models import Account
from handoff.people.models import User
from tests.browser.helpers import assert_accessible, sign_in
from tests.factories import AccountFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_ie_creates_account_and_finds_it_by_search(page, live_server, screenshot):
    UserFactory(
        username="ie",
        first_name="Irene",
        last_name="Ekwueme",
        role=User.Role.IMPLEMENTATION_ENGINEER,
    )
    UserFactory(username="maya", first_name="Maya", last_name="Nakamura", role=User.Role.MANAGER)
    AccountFactory.create_batch(3)

    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/sign-in/?next=/")
    assert_accessible(page)
    screenshot("sign-in")
    sign_in(page, live_server, "ie")

    # Signing in lands on My work; the dashboard is one click away.
    expect(page.get_by_role("heading", name="My work", level=1)).to_be_visible()
    page.get_by_role("link", name="Accounts", exact=True).click()
    expect(page.get_by_role("heading", name="Accounts")).to_be_visible()
    page.get_by_role("link", name="New account").click()
    assert_accessible(page)
    page.get_by_label("Account name").fill("Northwind Traders")
    page.get_by_label("Vitally account id").fill("northwind-traders")
    page.get_by_label("CRM link").fill("https://crm.example.com/northwind")
    page.get_by_label("Manager").select_option(label="Maya Nakamura")
    page.get_by_label("Planned completion date").fill("2027-03-01")
    screenshot("account-form")
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_role("heading", name="Northwind Traders", level=1)).to_be_visible()
    expect(page.get_by_text("Account “Northwind Traders” created.")).to_be_visible()
    assert_accessible(page)
    screenshot("account-page")
    page.get_by_role("navigation", name="Sections of this account").get_by_role(
        "link", name="History"
    ).click()
    history = page.locator("main")
    expect(history.get_by_role("row", name="Account name — Northwind Traders")).to_be_visible()
    page.go_back()
    account = Account.objects.get(name="Northwind Traders")
    assert account.implementation_engineer.username == "ie"

    page.get_by_role("link", name="Accounts", exact=True).click()
    page.get_by_label("Search by name").fill("northw")
    rows = page.locator("#account-rows tbody tr")
    expect(rows).to_have_count(1)  # htmx swapped in the filtered rows
    expect(rows.first).to_contain_text("Northwind Traders")
    expect(page).to_have_url(re.compile(r"[?&]q=northw(&|$)"))  # the filtered view can be shared
    assert_accessible(page)
    screenshot("dashboard")
