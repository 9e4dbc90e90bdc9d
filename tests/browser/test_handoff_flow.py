"""Three people carry an account from implementation to handed off, in Chromium:

ie fills the account and the closeout checklist and requests handoff; ta acknowledges and marks
it reviewed; ie edits a field; ta sees exactly that change; manager cannot sign off while a
blocker remains, overrides it and signs off; ie can no longer edit, ta can. axe on every page.
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


def save_item(page, position: int, *, status: str, evidence: str = "", reason: str = ""):
    item = page.locator(f"#checklist-item-{position}")
    if item.locator("details").get_attribute("open") is None:
        item.locator("summary").click()
    item.get_by_label(status, exact=True).check()
    if evidence:
        item.get_by_label("Evidence link").fill(evidence)
    if reason:
        item.get_by_label("Reason it does not apply").fill(reason)
    item.get_by_role("button", name="Save item").click()


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
    handoff_url = f"{live_server.url}/accounts/{account.pk}/handoff/"

    # --- ie: account fields, the checklist, request handoff ----------------------------------
    sign_in(page, live_server, "ie")
    page.get_by_role("link", name="Northwind Traders").click()
    page.get_by_role("link", name="Edit account").click()
    page.get_by_label("Planned completion date").fill("2027-03-01")
    page.get_by_label("CRM link").fill("https://crm.example.com/northwind")
    page.get_by_role("button", name="Save account").click()
    expect(page.get_by_text("Account saved.")).to_be_visible()

    page.get_by_role("button", name="Start closeout checklist").click()
    expect(page.get_by_text("Closeout checklist started with 11 items.")).to_be_visible()
    page.get_by_role("link", name="Handoff page").first.click()
    expect(page.get_by_role("heading", name="Handoff: Northwind Traders")).to_be_visible()
    expect(page.locator("#readiness")).to_contain_text("Readiness 50%")

    titles = page.locator(".checklist-title").all_inner_texts()
    for position, title in enumerate(titles, start=1):
        if title == LAST_ITEM:
            continue  # left open: the blocker the manager meets
        if title == NOT_APPLICABLE:
            save_item(page, position, status="Not applicable")
            item = page.locator(f"#checklist-item-{position}")
            expect(item.get_by_text("Say why this item does not apply")).to_be_visible()
            assert_accessible(page)
            screenshot("handoff-item-error")
            save_item(page, position, status="Not applicable", reason="SAML-provisioned admins.")
        else:
            save_item(
                page, position, status="Done", evidence=f"https://docs.example.com/nw/{position}"
            )
        expect(page.locator(f"#checklist-item-{position} .saved")).to_be_visible()
    # htmx swapped the readiness strip too: only the open item and the acknowledgement remain.
    blockers = page.locator("#readiness .blockers li")
    expect(blockers).to_have_count(2)
    expect(blockers.nth(1)).to_contain_text(f"Checklist item open: {LAST_ITEM}")

    page.get_by_role("button", name="Request handoff").click()
    expect(page.get_by_text("Handoff requested.")).to_be_visible()
    expect(page.locator(".page-head .badge")).to_have_text("Ready for handoff")
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

    # --- ie: one edit ------------------------------------------------------------------------
    sign_in(page, live_server, "ie")
    page.goto(f"{live_server.url}/accounts/{account.pk}/edit/")
    page.get_by_label("CRM link").fill("https://crm.example.com/northwind-traders")
    page.get_by_role("button", name="Save account").click()
    expect(page.get_by_text("Account saved.")).to_be_visible()
    sign_out(page)

    # --- ta: exactly that change ---------------------------------------------------------------
    sign_in(page, live_server, "ta")
    page.goto(handoff_url)
    expect(page.get_by_role("link", name="1 change since your last review")).to_be_visible()
    changes = page.locator("#changes")
    expect(changes.locator(".change-group")).to_have_count(1)
    expect(changes.locator(".change-group strong")).to_have_text("Account: Northwind Traders")
    rows = changes.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("th")).to_have_text("CRM link")
    expect(rows.first.locator(".before")).to_have_text("https://crm.example.com/northwind")
    expect(rows.first.locator(".after")).to_have_text("https://crm.example.com/northwind-traders")
    expect(changes).to_contain_text("by Irene Ekwueme")
    assert_accessible(page)
    screenshot("handoff-ta-changes")
    sign_out(page)

    # --- manager: refused while a blocker remains, then an override ----------------------------
    sign_in(page, live_server, "manager")
    page.goto(handoff_url)
    page.get_by_role("link", name="Sign off…").click()
    expect(
        page.get_by_role("heading", name="Sign off the closeout of Northwind Traders")
    ).to_be_visible()
    expect(page.locator("#readiness")).to_contain_text(f"Checklist item open: {LAST_ITEM}")
    assert_accessible(page)
    page.get_by_role("button", name="Sign off").click()
    expect(page.get_by_text("1 blocker remains. Resolve it, or write why")).to_be_visible()
    assert Account.objects.get(pk=account.pk).phase == Account.Phase.READY_FOR_HANDOFF
    assert_accessible(page)
    screenshot("handoff-sign-off-refused")
    page.get_by_label("Override reason").fill("Upgrade booked for next week with the TA.")
    page.get_by_role("button", name="Sign off").click()
    expect(page.get_by_role("heading", name="Sign-off of Northwind Traders")).to_be_visible()
    expect(page.get_by_text("Intact")).to_be_visible()
    expect(page.locator(".snapshot-body")).to_contain_text("Upgrade booked for next week")
    assert_accessible(page)
    screenshot("handoff-signed-record")
    sign_off = SignOff.objects.get(account=account)
    assert sign_off.override_reason == "Upgrade booked for next week with the TA."
    assert sign_off.signed_by == people["manager"]
    page.goto(handoff_url)
    expect(page.locator(".page-head .badge")).to_have_text("Handed off")
    assert_accessible(page)
    screenshot("handoff-handed-off")
    sign_out(page)

    # --- ie reads only; ta edits ---------------------------------------------------------------
    sign_in(page, live_server, "ie")
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    expect(page.get_by_role("link", name="Edit account")).to_have_count(0)
    expect(page.locator(".checklist-edit")).to_have_count(0)
    response = page.goto(f"{live_server.url}/accounts/{account.pk}/edit/")
    assert response.status == 403
    sign_out_url = f"{live_server.url}/"
    page.goto(sign_out_url)
    sign_out(page)

    sign_in(page, live_server, "ta")
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    page.get_by_role("link", name="Edit account").click()
    page.get_by_label("Planned completion date").fill("2027-03-08")
    page.get_by_role("button", name="Save account").click()
    expect(page.get_by_text("Account saved.")).to_be_visible()
    expect(page.locator(".page-head .meta")).to_contain_text(re.compile(r"8 Mar 2027"))
