"""Three people carry an account from implementation to handed off, in Chromium:

ie fills the account (its production deployment by the handbook's labels, a code host), raises a
critical issue, works through the closeout checklist and requests handoff; ta acknowledges and
marks it reviewed; ie edits a deployment field; ta sees exactly that change; manager cannot sign
off while blockers remain, resolves the critical issue, overrides the open checklist item and
signs off; ie can no longer edit the record, ta can. axe on every page.
"""

import re

import pytest
from playwright.sync_api import expect

from handoff.accounts.models import Account
from handoff.closeout.models import SignOff
from handoff.people.models import User
from tests.browser.helpers import assert_accessible, sign_in
from tests.factories import AccountFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAST_ITEM = "Production on a current version"
NOT_APPLICABLE = "Admin accounts provisioned and admins trained"


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Handoff")).to_be_visible()


def mark_done(page, position: int):
    """One click: "Done" saves the item at once."""
    item = page.locator(f"#checklist-item-{position}")
    item.get_by_role("button", name="Done").click()
    expect(item.get_by_role("button", name="Reopen")).to_be_visible()


def mark_not_applicable(page, position: int, *, reason: str = ""):
    """ "Not applicable…" opens the reason box (only then), which the save needs."""
    item = page.locator(f"#checklist-item-{position}")
    na = item.locator("details.checklist-na")
    if na.get_attribute("open") is None:
        na.locator("summary").click()
    item.get_by_label("Reason it does not apply").fill(reason)
    item.get_by_role("button", name="Save as not applicable").click()


@pytest.fixture
def people(db):
    return {
        "ie": UserFactory(
            username="ie",
            first_name="Irene",
            last_name="Ekwueme",
            role=User.Role.IMPLEMENTATION_ENGINEER,
        ),
        "ta": UserFactory(
            username="ta", first_name="Tomas", last_name="Alvarez", role=User.Role.TECHNICAL_ADVISOR
        ),
        "manager": UserFactory(
            username="manager", first_name="Maya", last_name="Nakamura", role=User.Role.MANAGER
        ),
    }


def record_production(page):
    """The handbook's production fields, found by their labels, on the form the account page
    links to."""
    page.get_by_role("link", name="Record production deployment").click()
    expect(page.get_by_role("heading", name="Production deployment", level=1)).to_be_visible()
    page.get_by_label("Sourcegraph instance URL").fill("https://sourcegraph.northwind.example")
    page.get_by_label("Start date of implementation of production infrastructure").fill(
        "2027-01-04"
    )
    page.get_by_label("Completion date of implementation of production infrastructure").fill(
        "2027-02-12"
    )
    page.get_by_label("Deployment type").select_option(label="Kubernetes with Helm")
    page.get_by_label("Infrastructure Hosting Provider").select_option(label="AWS")
    row = page.get_by_role("group", name="Instance type row 1")
    row.get_by_label("Count").fill("3")
    row.get_by_label("Instance type").fill("m6a.4xlarge")
    page.get_by_label("Total CPU").fill("48")
    page.get_by_label("Total Memory (GB)").fill("192")
    page.get_by_label("Total Disk Space (GB)").fill("1000")
    page.get_by_label("Total Disk Space (GB)").blur()
    page.get_by_role("button", name="Save production deployment").click()
    expect(page.get_by_text("Production deployment saved.")).to_be_visible()


def record_code_host(page):
    page.get_by_role("link", name="Add code hosts").click()
    first = page.get_by_role("group", name="Code host 1")
    first.get_by_label("Kind").select_option(label="GitHub.com")
    first.get_by_label("Display name").fill("github.com/northwind")
    first.get_by_label("URL").fill("https://github.com/northwind")
    first.get_by_label("Number of repositories").fill("420")
    first.get_by_label("Largest repository (MB)").fill("1800")
    first.get_by_label("Largest repository (MB)").blur()
    page.get_by_role("button", name="Save code hosts").click()
    expect(page.get_by_text("Code hosts saved.")).to_be_visible()


def raise_critical_issue(page):
    page.locator("#issues-log").get_by_role("link", name="Add an issue").click()
    page.get_by_label("Title").fill("SSO sign-in fails for contractors")
    page.get_by_label("Severity").select_option(label="Critical")
    page.get_by_label("Owner").select_option(label="Irene Ekwueme")
    page.get_by_role("button", name="Add issue").click()
    # Back on the account page, where "Add an issue" was clicked, with the issue in its section.
    expect(page.locator("#issues-log")).to_contain_text("SSO sign-in fails for contractors")


def test_implementation_to_handed_off_with_three_people(
    page, live_server, screenshot, people, template
):
    account = AccountFactory(
        name="Northwind Traders",
        vitally_account_id="northwind",
        implementation_engineer=people["ie"],
        technical_advisor=people["ta"],
        manager=people["manager"],
    )
    account_url = f"{live_server.url}/accounts/{account.pk}/"
    handoff_url = f"{account_url}handoff/"
    production_url = f"{account_url}deployment/production/"
    critical = "Open critical issue I-1: SSO sign-in fails for contractors"

    # --- ie: account fields, deployment record, a critical issue, the checklist, request ------
    sign_in(page, live_server, "ie")
    page.get_by_role("link", name="Northwind Traders").click()
    page.get_by_role("link", name="Edit account").click()
    page.get_by_label("Planned completion date").fill("2027-03-01")
    page.get_by_label("CRM link").fill("https://crm.example.com/northwind")
    page.get_by_role("button", name="Save account").click()
    expect(page.get_by_text("Account saved.")).to_be_visible()

    record_production(page)
    record_code_host(page)
    expect(page.get_by_label("Code host totals")).to_contain_text("420")
    raise_critical_issue(page)

    page.goto(account_url)
    page.get_by_role("button", name="Start closeout checklist").click()
    expect(page.get_by_text("Closeout checklist started with 11 items.")).to_be_visible()
    readiness = page.locator("#readiness")  # the account page is the handoff page now
    # The deployment record's rules are met; the critical issue, the acknowledgement and the
    # checklist are not.
    expect(readiness).to_contain_text("Readiness 66%")
    expect(readiness).to_contain_text("6 of 9 rules met")
    expect(readiness).not_to_contain_text("Production field missing")
    expect(readiness).not_to_contain_text("No code host recorded")
    expect(readiness.get_by_role("link", name=critical)).to_be_visible()
    # Each cause once: the critical issue is a blocker, not also an attention item.
    expect(page.locator("#attention")).not_to_contain_text("SSO sign-in fails for contractors")

    titles = page.locator(".checklist-title").all_inner_texts()
    for position, title in enumerate(titles, start=1):
        if title == LAST_ITEM:
            continue  # left open: the blocker the manager overrides
        if title == NOT_APPLICABLE:
            item = page.locator(f"#checklist-item-{position}")
            expect(item.get_by_label("Reason it does not apply")).to_be_hidden()
            mark_not_applicable(page, position)
            expect(item.get_by_text("Say why this item does not apply")).to_be_visible()
            assert_accessible(page)
            screenshot("handoff-item-error")
            mark_not_applicable(page, position, reason="SAML-provisioned admins.")
        else:
            mark_done(page, position)
        expect(page.locator(f"#checklist-item-{position} .saved")).to_be_visible()
    # htmx swapped the readiness strip too: the acknowledgement, the issue and the open item.
    blockers = page.locator("#readiness .rule-list > li")  # one line per rule not met
    expect(blockers).to_have_count(3)
    expect(blockers.nth(1)).to_contain_text(critical)
    expect(blockers.nth(2)).to_contain_text(f"Checklist item open: {LAST_ITEM}")

    # The request asks first, in the page: the server's confirmation under the button names
    # what is missing one line per rule (the readiness block's lines), but the acknowledgement,
    # which comes after the request; the keyboard reaches it and Escape puts it away.
    request = page.get_by_role("link", name="Request handoff…")
    request.focus()
    page.keyboard.press("Enter")
    confirm = page.locator("#request-confirm-slot [data-confirm-step]")
    asked = "Request handoff with 2 readiness rules not met?"
    question = confirm.get_by_role("heading", name=asked)
    expect(question).to_be_focused()
    expect(confirm.locator(".rule-lines li")).to_have_text(
        [critical, f"Checklist item open: {LAST_ITEM}"]
    )
    expect(confirm).not_to_contain_text("has not acknowledged")
    expect(confirm).to_contain_text("The technical advisor acknowledges the account after")
    assert_accessible(page)
    screenshot("handoff-ie-request-confirm")
    page.keyboard.press("Escape")
    expect(confirm).to_have_count(0)
    expect(request).to_be_focused()
    page.keyboard.press("Enter")
    expect(question).to_be_focused()
    page.keyboard.press("Tab")
    expect(confirm.get_by_role("button", name="Request handoff anyway")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Handoff requested.")).to_be_visible()
    expect(page.locator("#blockers-remain")).to_contain_text("3 rules not met")
    expect(page.locator(".page-head .badge[class*='phase-']")).to_have_text("Handoff requested")
    assert_accessible(page)
    screenshot("handoff-ie-requested")
    sign_out(page)

    # --- ta: acknowledge, mark reviewed ------------------------------------------------------
    sign_in(page, live_server, "ta")
    page.goto(handoff_url)
    page.get_by_role("button", name="Acknowledge the account").click()
    expect(page.get_by_text("You acknowledged this account.")).to_be_visible()
    page.get_by_role("button", name="Mark handoff reviewed").click()
    expect(page.get_by_text("No changes by others since your review.")).to_be_visible()
    sign_out(page)

    # --- ie: one field of the deployment record -------------------------------------------------
    sign_in(page, live_server, "ie")
    page.goto(account_url)
    page.get_by_role("link", name="Edit production deployment").click()
    page.get_by_label("Total Disk Space (GB)").fill("1500")
    page.get_by_label("Total Disk Space (GB)").blur()
    page.get_by_role("button", name="Save production deployment").click()
    expect(page.get_by_text("Production deployment saved.")).to_be_visible()
    sign_out(page)

    # --- ta: exactly that change ---------------------------------------------------------------
    sign_in(page, live_server, "ta")
    page.goto(handoff_url)
    expect(page.get_by_role("link", name="1 change since your last review")).to_be_visible()
    changes = page.locator("#changes")
    expect(changes.locator(".change-group")).to_have_count(1)
    expect(changes.locator(".change-group strong")).to_have_text(
        "Environment: Production environment"
    )
    rows = changes.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("th")).to_have_text("Total Disk Space (GB)")
    expect(rows.first.locator(".before")).to_have_text("1000")
    expect(rows.first.locator(".after")).to_have_text("1500")
    expect(changes).to_contain_text("by Irene Ekwueme")
    assert_accessible(page)
    screenshot("handoff-ta-changes")
    sign_out(page)

    # --- manager: refused while blockers remain; resolves the issue, overrides the item --------
    sign_in(page, live_server, "manager")
    page.goto(handoff_url)
    page.get_by_role("link", name="Sign off…").click()
    expect(
        page.get_by_role("heading", name="Sign off the closeout of Northwind Traders")
    ).to_be_visible()
    expect(page.locator("#readiness")).to_contain_text(critical)
    expect(page.locator("#readiness")).to_contain_text(f"Checklist item open: {LAST_ITEM}")
    assert_accessible(page)
    page.get_by_role("button", name="Sign off").click()
    expect(
        page.get_by_text("2 rules not met (2 blockers). Resolve them, or write why")
    ).to_be_visible()
    assert Account.objects.get(pk=account.pk).phase == Account.Phase.READY_FOR_HANDOFF
    assert_accessible(page)
    screenshot("handoff-sign-off-refused")

    page.locator("#readiness").get_by_role("link", name=critical).click()
    expect(
        page.get_by_role("heading", name="I-1 SSO sign-in fails for contractors", level=1)
    ).to_be_visible()
    page.get_by_label("Status", exact=True).select_option(label="Resolved")
    page.get_by_label("Resolution").fill("Contractors' IdP group added to the SAML mapping.")
    page.get_by_role("button", name="Change status").click()
    expect(page.locator(".page-head .badge.status-resolved")).to_have_text("Resolved")

    page.goto(f"{account_url}sign-off/")
    expect(page.locator("#readiness")).not_to_contain_text(critical)
    page.get_by_role("button", name="Sign off").click()
    expect(page.get_by_text("1 rule not met (1 blocker). Resolve it, or write why")).to_be_visible()
    assert Account.objects.get(pk=account.pk).phase == Account.Phase.READY_FOR_HANDOFF
    page.get_by_label("Override reason").fill("Upgrade booked for next week with the TA.")
    page.get_by_role("button", name="Sign off").click()
    expect(page.get_by_role("heading", name="Sign-off of Northwind Traders")).to_be_visible()
    expect(page.get_by_text("Intact")).to_be_visible()
    record = page.locator(".snapshot-body")
    expect(record).to_contain_text("Upgrade booked for next week")
    expect(record.get_by_role("heading", name="Production deployment")).to_be_visible()
    expect(record).to_contain_text("3 × m6a.4xlarge")
    expect(record).to_contain_text("1,500")
    expect(record.get_by_role("heading", name="Issues Log")).to_be_visible()
    expect(record).to_contain_text("Contractors' IdP group added to the SAML mapping.")
    assert_accessible(page)
    screenshot("handoff-signed-record")
    sign_off = SignOff.objects.get(account=account)
    assert sign_off.override_reason == "Upgrade booked for next week with the TA."
    assert sign_off.signed_by == people["manager"]
    assert [b["rule"] for b in sign_off.blockers] == ["checklist_complete"]
    page.goto(handoff_url)
    expect(page.locator(".page-head .badge[class*='phase-']")).to_have_text("Handed off")
    assert_accessible(page)
    screenshot("handoff-handed-off")
    sign_out(page)

    # --- ie reads only; ta edits ---------------------------------------------------------------
    sign_in(page, live_server, "ie")
    page.goto(account_url)
    expect(page.locator("#production-deployment")).to_contain_text("1,500")
    expect(page.get_by_role("link", name="Edit account")).to_have_count(0)
    expect(page.get_by_role("link", name="Edit production deployment")).to_have_count(0)
    expect(page.get_by_role("link", name="Edit code hosts")).to_have_count(0)
    expect(page.locator(".checklist-edit")).to_have_count(0)
    assert page.goto(f"{account_url}edit/").status == 403
    assert page.goto(production_url).status == 403
    page.goto(f"{live_server.url}/")
    sign_out(page)

    sign_in(page, live_server, "ta")
    page.goto(account_url)
    page.get_by_role("link", name="Edit account").click()
    page.get_by_label("Planned completion date").fill("2027-03-08")
    page.get_by_role("button", name="Save account").click()
    expect(page.get_by_text("Account saved.")).to_be_visible()
    expect(page.locator(".page-head .meta")).to_contain_text(re.compile(r"8 Mar 2027"))
    page.get_by_role("link", name="Edit production deployment").click()
    page.get_by_label("Total Disk Space (GB)").fill("2000")
    page.get_by_label("Total Disk Space (GB)").blur()
    page.get_by_role("button", name="Save production deployment").click()
    expect(page.get_by_text("Production deployment saved.")).to_be_visible()
    expect(page.locator("#production-deployment")).to_contain_text("2,000")
    assert_accessible(page)
    screenshot("handoff-ta-maintains")
    # The signed snapshot still holds what was signed.
    assert "1500" in str(SignOff.objects.get(pk=sign_off.pk).snapshot)
