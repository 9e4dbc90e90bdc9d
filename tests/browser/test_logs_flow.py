"""An IE keeps the Risk Log and the journal from the running app; a manager reads the heatmap."""

import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from playwright.sync_api import expect

from handoff.people.models import User
from logs.models import Issue, JournalEntry, Risk
from logs.services import issue_create, risk_create
from tests.browser.helpers import assert_accessible, sign_in
from tests.factories import AccountFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _people():
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
        username="maya", first_name="Maya", last_name="Nakamura", role=User.Role.MANAGER
    )
    return ie, ta, manager


def test_ie_adds_a_risk_marks_it_occurred_and_writes_a_note(page, live_server, screenshot):
    ie, ta, manager = _people()
    account = AccountFactory(
        name="Northwind Traders", implementation_engineer=ie, technical_advisor=ta, manager=manager
    )
    sign_in(page, live_server, "ie")
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    expect(page.get_by_role("heading", name="Risk Log", level=2)).to_be_visible()
    page.locator("#risk-log").get_by_role("link", name="Open the Risk Log").click()
    expect(page.get_by_role("heading", name="Risk Log", level=1)).to_be_visible()

    # Inline add (htmx): the form opens above the list, the list reloads after saving.
    page.get_by_role("link", name="New risk").click()
    form = page.locator("#log-form-slot form")
    form.get_by_label("Title").fill("Monorepo growth outpaces gitserver disk")
    form.get_by_label("Description").fill(
        "Because the monorepo grows 2 GB a month, gitserver's disk may fill, which would stop "
        "cloning for every repository on the shard."
    )
    form.get_by_label("Category").select_option(label="Performance and scale")
    form.get_by_label("Likelihood").select_option("4")
    form.get_by_label("Impact").select_option("5")
    form.get_by_label("Trigger (early warning sign)").fill("gitserver disk above 75%.")
    form.get_by_label("Response strategy").select_option("mitigate")
    form.get_by_label("Response plan").fill("Alert at 70%; add a shard before the reorg.")
    form.get_by_label("Owner").select_option(label="Irene Ekwueme")
    assert_accessible(page)
    screenshot("logs-risk-form")
    form.get_by_role("button", name="Add risk").click()

    expect(page.locator("#log-form-slot")).to_contain_text(
        "R-1 “Monorepo growth outpaces gitserver disk” added to the Risk Log: score 20, critical."
    )
    row = page.locator("#log-rows tbody tr").filter(has_text="R-1")
    expect(row.locator(".score")).to_have_text(re.compile(r"20\s+Critical"))
    expect(row).to_contain_text("Likelihood 4 × impact 5")
    assert_accessible(page)
    screenshot("logs-risk-log")

    # "It happened": confirm, and the row links the issue it raised.
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="It happened").click()
    issue_link = row.get_by_role("link", name="Issue I-1")
    expect(issue_link).to_be_visible()
    expect(row.locator(".badge")).to_have_text("Occurred")
    issue_link.click()
    expect(
        page.get_by_role("heading", name="I-1 Monorepo growth outpaces gitserver disk", level=1)
    ).to_be_visible()
    expect(page.get_by_text("Critical", exact=True).first).to_be_visible()
    back_link = page.get_by_role("link", name="R-1 Monorepo growth outpaces gitserver disk")
    expect(back_link).to_be_visible()
    assert_accessible(page)
    screenshot("logs-issue-from-risk")
    risk = Risk.objects.get()
    assert risk.status == Risk.Status.OCCURRED
    assert risk.issue == Issue.objects.get(account=account, number=1)

    # Inline edit and status change on the Issues Log.
    page.get_by_role("link", name="Issues Log").click()
    row = page.locator("#log-rows tbody tr").filter(has_text="I-1")
    row.get_by_role("link", name="Edit I-1").click()
    editing = page.locator("tr.editing")
    editing.get_by_label("Severity").select_option(label="High")
    editing.get_by_label("Target date").fill("2027-01-15")
    assert_accessible(page)
    screenshot("logs-issue-inline-edit")
    editing.get_by_role("button", name="Save issue").click()
    expect(page.locator("tr.editing")).to_have_count(0)
    expect(row.locator(".badge").first).to_have_text("High")
    expect(row).to_contain_text("15 Jan 2027")
    with page.expect_response(lambda response: "/status/" in response.url) as status_change:
        row.get_by_label("Status of I-1").select_option(label="Blocked")
    assert status_change.value.ok
    expect(row.get_by_label("Status of I-1")).to_have_value("blocked")
    issue = Issue.objects.get(account=account, number=1)
    assert (issue.status, issue.severity, str(issue.target_date)) == (
        "blocked",
        "high",
        "2027-01-15",
    )

    # A journal entry, with Markdown rendered and raw HTML made inert.
    page.goto(f"{live_server.url}/accounts/{account.pk}/notes/")
    page.get_by_role("link", name="New note").click()
    form = page.locator("#log-form-slot form")
    form.get_by_label("Title").fill("Rockskip enabled for the monorepo")
    form.get_by_label("Category").select_option(label="Special deployment details")
    form.get_by_label("Kind").select_option(label="Warning")
    form.get_by_label("Notes").fill(
        "Symbol search uses **Rockskip** for `acme/firmware`.\n\n<img src=x onerror=alert(1)>"
    )
    form.get_by_label("Reference link").fill("https://github.com/sourcegraph/sourcegraph/pull/1")
    form.get_by_role("button", name="Add note").click()
    entry = page.locator("article.journal-entry").filter(has_text="Rockskip enabled")
    expect(entry.locator("strong")).to_have_text("Rockskip")
    expect(entry.locator("img")).to_have_count(0)
    expect(entry).to_contain_text("Irene Ekwueme")
    assert_accessible(page)
    screenshot("logs-journal")
    assert JournalEntry.objects.get().author == ie

    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    expect(page.locator("#implementation-notes")).to_contain_text("Rockskip enabled")
    expect(page.locator("#issues-log")).to_contain_text("I-1")
    assert_accessible(page)
    screenshot("logs-account-page")


def test_manager_reads_the_heatmap_and_open_issues(page, live_server, screenshot):
    ie, ta, manager = _people()
    acme = AccountFactory(name="Acme Robotics", implementation_engineer=ie, technical_advisor=ta)
    other = AccountFactory(name="Borealis Bank")
    for account, title, likelihood, impact in [
        (acme, "Change freeze before quarter end", 5, 4),
        (acme, "Champion leaves the company", 4, 5),
        (acme, "Token with admin scope leaks", 1, 5),
        (other, "Spot instances reclaimed", 4, 5),
        (other, "Wiki links break", 2, 2),
    ]:
        risk_create(
            account=account,
            actor=ie,
            title=title,
            description="Because …, … may happen, which would …",
            likelihood=likelihood,
            impact=impact,
            owner=ie,
        )
    issue_create(account=acme, actor=ie, title="GitLab sync failing", owner=ie, severity="critical")
    issue_create(account=other, actor=ie, title="TLS certificate", owner=ta, severity="low")

    sign_in(page, live_server, "maya")
    page.get_by_role("link", name="Risks", exact=True).click()
    expect(page.get_by_role("heading", name="Risk heatmap", level=1)).to_be_visible()
    cell = page.get_by_role("link", name="Likelihood 4, impact 5: 2 risks")
    expect(cell).to_be_visible()
    assert_accessible(page)
    screenshot("logs-heatmap")

    page.get_by_label("Technical advisor").select_option(label="Tomas Alvarez")  # applies at once
    expect(page).to_have_url(re.compile(r"[?&]ta=\d+"))
    page.get_by_role("link", name="Likelihood 4, impact 5: 1 risk").click()
    heading = page.get_by_role("heading", name=re.compile("Risks with likelihood 4 and impact 5"))
    expect(heading).to_contain_text("(1)")
    rows = page.locator("#cell-risks tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Champion leaves the company")
    screenshot("logs-heatmap-cell")

    page.get_by_role("link", name="Issues", exact=True).click()
    expect(page.get_by_role("heading", name="Open issues across accounts")).to_be_visible()
    expect(page.locator(".overview-group").first).to_contain_text("GitLab sync failing")
    assert_accessible(page)
    screenshot("logs-open-issues")


def test_the_issues_list_filters_as_you_choose(page, live_server):
    """A filter change replaces the rows and the URL, with no button; "Me" is the viewer."""
    ie, ta, manager = _people()
    account = AccountFactory(
        name="Northwind Traders", implementation_engineer=ie, technical_advisor=ta, manager=manager
    )
    issue_create(account=account, actor=ie, title="Irene's issue", owner=ie, severity="high")
    issue_create(account=account, actor=ie, title="Tomas's issue", owner=ta, severity="low")
    sign_in(page, live_server, "ie")
    page.goto(f"{live_server.url}/accounts/{account.pk}/issues/")
    rows = page.locator("#log-rows tbody tr")
    expect(rows).to_have_count(2)
    expect(page.get_by_role("button", name="Filter")).to_be_hidden()  # only without JS

    page.get_by_label("Owner").select_option(label="Me")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Irene's issue")
    expect(page).to_have_url(re.compile(r"[?&]owner=me(&|$)"))
    expect(page.locator("#log-rows")).to_contain_text("Filtered by owner: Me")

    page.get_by_label("Severity").select_option(label="Low")
    expect(page.locator("#log-rows")).to_contain_text("No issues with severity: Low and owner: Me.")
    expect(page).to_have_url(re.compile(r"severity=low"))
    assert_accessible(page)

    # The URL is shareable: opened by Tomas, "Me" is Tomas.
    page.context.clear_cookies()
    sign_in(page, live_server, "ta")
    page.goto(f"{live_server.url}/accounts/{account.pk}/issues/?owner=me")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Tomas's issue")


def _expect_bar_shows_the_url(page) -> None:
    """The filter selects hold the URL's filters, as the notice under them says."""
    query = dict(parse_qsl(urlsplit(page.url).query))
    selects = page.locator("form.filters select")
    expect(selects.first).to_be_visible()  # the whole page, not a fragment of it
    for select in selects.all():
        expect(select).to_have_value(query.get(select.get_attribute("name"), ""))
    notice = page.locator(".filter-notice")
    if any(query.values()):
        expect(notice).to_contain_text("Filtered by")
    else:
        expect(notice).to_have_count(0)


def test_back_shows_the_filters_of_the_url(page, live_server):
    """After Back (and Forward) the filter bar and the notice both say what the URL filters by:
    through htmx's history, and back from another page."""
    ie, ta, manager = _people()
    account = AccountFactory(
        name="Northwind Traders", implementation_engineer=ie, technical_advisor=ta, manager=manager
    )
    issue_create(account=account, actor=ie, title="Irene's issue", owner=ie, severity="high")
    issue_create(account=account, actor=ie, title="Tomas's issue", owner=ta, severity="low")
    sign_in(page, live_server, "ie")
    rows = page.locator("#log-rows tbody tr")
    notice = page.locator(".filter-notice")
    page.goto(f"{live_server.url}/accounts/{account.pk}/issues/")

    page.get_by_label("Severity").select_option(label="High")
    expect(notice).to_have_text(re.compile("Filtered by severity: High —"))
    page.get_by_label("Owner").select_option(label="Me")
    expect(notice).to_have_text(re.compile("Filtered by severity: High, owner: Me —"))

    page.go_back()  # htmx's own history: the page is not reloaded
    expect(page).to_have_url(re.compile(r"severity=high"))
    expect(notice).to_have_text(re.compile("Filtered by severity: High —"))
    _expect_bar_shows_the_url(page)
    page.go_back()
    expect(notice).to_have_count(0)
    expect(rows).to_have_count(2)
    _expect_bar_shows_the_url(page)
    page.go_forward()
    expect(notice).to_have_text(re.compile("Filtered by severity: High —"))
    _expect_bar_shows_the_url(page)

    # To an issue and back: the list page again (not the rows alone), as its URL says.
    page.get_by_role("link", name="Irene's issue").click()
    expect(page.get_by_role("heading", name=re.compile("Irene's issue"))).to_be_visible()
    page.go_back()
    expect(notice).to_have_text(re.compile("Filtered by severity: High —"))
    expect(rows).to_have_count(1)
    _expect_bar_shows_the_url(page)

    # "Clear filters" loads the whole list; Back returns to the filtered one.
    page.get_by_label("Owner").select_option(label="Me")
    expect(notice).to_have_text(re.compile("owner: Me"))
    page.get_by_role("link", name="Clear filters").click()
    expect(notice).to_have_count(0)
    page.go_back()
    expect(notice).to_have_text(re.compile("Filtered by severity: High, owner: Me —"))
    _expect_bar_shows_the_url(page)
    page.go_back()
    expect(notice).to_have_text(re.compile("Filtered by severity: High —"))
    _expect_bar_shows_the_url(page)

    # A choice whose rows never came (the network dropped them) is not put back by the browser
    # on the list it loads again: the bar shows what the list is filtered by.
    def drop_rows(route):
        return route.abort() if route.request.headers.get("hx-request") else route.continue_()

    page.route(re.compile(r"/issues/\?"), drop_rows)
    page.get_by_label("Owner").select_option(label="Me")
    page.wait_for_timeout(300)
    expect(notice).to_have_text(re.compile("Filtered by severity: High —"))  # unchanged
    page.get_by_role("link", name="Irene's issue").click()
    expect(page.get_by_role("heading", name=re.compile("Irene's issue"))).to_be_visible()
    page.go_back()
    expect(notice).to_have_text(re.compile("Filtered by severity: High —"))
    _expect_bar_shows_the_url(page)
