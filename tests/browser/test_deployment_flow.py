"""An implementation engineer records the production deployment and two code hosts from the
running app, and sees the derived totals and the sizing check's warning."""

import pytest
from playwright.sync_api import expect

from deployments.models import CodeHostConnection, Environment
from handoff.people.models import User
from tests.browser.helpers import assert_accessible, sign_in
from tests.factories import AccountFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_ie_records_production_deployment_and_code_hosts(page, live_server, screenshot):
    ie = UserFactory(
        username="ie",
        first_name="Irene",
        last_name="Ekwueme",
        role=User.Role.IMPLEMENTATION_ENGINEER,
    )
    account = AccountFactory(name="Northwind Traders", implementation_engineer=ie)
    sign_in(page, live_server, "ie")
    page.goto(f"{live_server.url}/accounts/{account.pk}/")

    page.get_by_role("link", name="Record production deployment").click()
    expect(page.get_by_role("heading", name="Production deployment", level=1)).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Sourcegraph instance URL").fill("https://sourcegraph.northwind.example")
    page.get_by_label("Sourcegraph version").fill("6.0.0")
    page.get_by_label("Start date of implementation of production infrastructure").fill(
        "2026-01-05"
    )
    page.get_by_label("Deployment type").select_option(label="Kubernetes with Helm")
    page.get_by_label("Infrastructure Hosting Provider").select_option(label="AWS")
    first_doc = page.get_by_role("group", name="Document 1")
    first_doc.get_by_label("Title").fill("Technical design")
    first_doc.get_by_label("URL").fill("https://docs.example.com/northwind/tdd")

    # Add a second link: htmx re-renders the form, keeping what was typed.
    page.get_by_role("button", name="Add a document").click()
    second_doc = page.get_by_role("group", name="Document 2")
    expect(second_doc.get_by_label("Title")).to_be_focused()
    expect(first_doc.get_by_label("Title")).to_have_value("Technical design")
    expect(page.get_by_label("Sourcegraph instance URL")).to_have_value(
        "https://sourcegraph.northwind.example"
    )
    second_doc.get_by_label("Title").fill("Upgrade runbook")
    second_doc.get_by_label("URL").fill("https://docs.example.com/northwind/runbook")

    row = page.get_by_role("group", name="Instance type row 1")
    row.get_by_label("Count").fill("1")
    row.get_by_label("Instance type").fill("m6a.4xl")
    row.get_by_label("Instance type").blur()
    check = page.locator("#instance-check")
    expect(check).to_contain_text("does not look like an AWS instance type")  # a warning only
    row.get_by_label("Instance type").fill("m6a.4xlarge")
    row.get_by_label("Instance type").blur()
    expect(check).to_contain_text("Implied by these instance types: 16 vCPU, 64 GB memory")

    page.get_by_label("Total CPU").fill("16")
    page.get_by_label("Total Memory (GB)").fill("64")
    page.get_by_label("Total Disk Space (GB)").fill("500")
    page.get_by_label("External PostgreSQL").check()
    page.get_by_label("Users", exact=True).fill("3000")
    page.get_by_label("Concurrent users").fill("150")
    # Leave the field first: a full-page screenshot with a focused input makes Chromium jump
    # the scroll position on the next blur, and the Save click would land beside the button.
    page.get_by_label("Concurrent users").blur()
    assert_accessible(page)
    screenshot("deployment-production-form")
    page.get_by_role("button", name="Save production deployment").click()

    saved = page.get_by_text("Production deployment saved.")
    # The save lands on the section further down; the message stays pinned in view.
    expect(saved).to_be_in_viewport()
    page.get_by_role("button", name="Dismiss this message").click()
    expect(saved).to_have_count(0)
    production = page.locator("#production-deployment")
    expect(production).to_contain_text("Kubernetes with Helm")
    expect(production).to_contain_text("1 × m6a.4xlarge")
    expect(production.get_by_role("link", name="Upgrade runbook")).to_be_visible()

    page.get_by_role("link", name="Add code hosts").click()
    first = page.get_by_role("group", name="Code host 1")
    first.get_by_label("Kind").select_option(label="GitHub.com")
    first.get_by_label("Display name").fill("github.com/northwind")
    first.get_by_label("URL").fill("https://github.com/northwind")
    first.get_by_label("Number of repositories").fill("1200")
    first.get_by_label("Number of monorepos").fill("1")
    first.get_by_label("Largest repository (MB)").fill("4096")
    page.get_by_role("button", name="Add a code host").click()
    second = page.get_by_role("group", name="Code host 2")
    expect(second.get_by_label("Kind")).to_be_focused()
    expect(first.get_by_label("Display name")).to_have_value("github.com/northwind")
    second.get_by_label("Kind").select_option(label="GitLab Self-Managed")
    second.get_by_label("Display name").fill("GitLab")
    second.get_by_label("Number of repositories").fill("300")
    second.get_by_label("Largest repository (MB)").fill("900")
    second.get_by_label("Largest repository (MB)").blur()
    assert_accessible(page)
    screenshot("deployment-code-hosts-form")
    page.get_by_role("button", name="Save code hosts").click()

    expect(page.get_by_text("Code hosts saved.")).to_be_visible()
    totals = page.get_by_label("Code host totals")
    expect(totals).to_contain_text("GitHub.com, GitLab Self-Managed")
    expect(totals).to_contain_text("1,500")
    expect(totals).to_contain_text("4,096")
    sizing = page.locator("#sizing-check")
    expect(sizing).to_contain_text("Total CPU 16 is below the 32 vCPU of tier M for 3,000 users.")
    expect(sizing).to_contain_text("A 4 GB monorepo and Rockskip is not enabled")
    expect(sizing).to_contain_text("Source: Sourcegraph docs: instance size chart")
    assert_accessible(page)
    screenshot("deployment-account-page")
    page.get_by_role("navigation", name="Sections of this account").get_by_role(
        "link", name="History"
    ).click()
    expect(page.locator("main")).to_contain_text("created code host github.com/northwind")
    page.go_back()

    assert Environment.objects.get(account=account).total_cpu == 16
    assert CodeHostConnection.objects.filter(account=account).count() == 2


def test_a_number_the_browser_cannot_read_is_refused_not_dropped(page, live_server):
    """A type="number" input sends an empty value when it cannot read what was typed, so
    "12 GB" in an optional field once saved as blank under "saved". The text input sends what
    was typed, and the portal answers beside the field."""
    ie = UserFactory(username="ie", role=User.Role.IMPLEMENTATION_ENGINEER)
    account = AccountFactory(name="Northwind Traders", implementation_engineer=ie)
    sign_in(page, live_server, "ie")
    page.goto(f"{live_server.url}/accounts/{account.pk}/deployment/production/")
    page.get_by_label("Deployment type").select_option(label="Kubernetes with Helm")
    page.get_by_label("Infrastructure Hosting Provider").select_option(label="AWS")
    memory = page.get_by_label("Total Memory (GB)")
    memory.fill("12 GB")
    page.get_by_role("button", name="Save").first.click()
    expect(page.get_by_text("Enter a whole number.")).to_be_visible()
    expect(memory).to_have_value("12 GB")  # what was typed stays, to be corrected
    assert not Environment.objects.filter(account=account).exists()
