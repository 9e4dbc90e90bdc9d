"""axe on every main page of the portal, with the demo data, in Chromium at 1366×900 and on a
phone at 390×844.

Each page (and each form's error state) must have no serious or critical axe violation at both
widths; at 390 px nothing may scroll sideways (a table scrolls in its own box) and the top bar's
Menu opens by keyboard and reaches every link and Sign out. Each page is saved to
tests/artifacts/page-<role>-<name>.png (and -390.png) to be looked at. Each of the demo's three
people walks the pages they see in one browser session of their own, because the pages differ
by role: the manager's sign-off and reopen, the implementation engineer's own accounts with
their edit controls (and a handed-off account without them), the technical advisor's handoff
pages (acknowledge, the changes since their last review, before and after marking it
reviewed) and the handed-off accounts the TA maintains. tests/test_every_page_listed.py fails
when a route of the URLconf is neither walked here nor skipped with a reason."""

import io
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from deployments.models import Environment
from handoff.accounts.demo import DEMO_PASSWORD
from handoff.accounts.models import Account
from handoff.closeout.models import ChecklistItem, SignOff
from logs.models import ExpansionOpportunity, Issue, JournalEntry, Risk
from tests.browser.helpers import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@dataclass(frozen=True)
class Step:
    name: str
    route: str  # a URL name: tests/test_every_page_listed.py holds the URLconf to these steps
    keys: tuple[str, ...] = ()  # the route's arguments, as keys of _ids()
    # Submit the form as it is (or after `fill`), to see its error state.
    submit: str = ""
    fill: dict | None = None
    # A selector for the state the step is about (a role's control, a list), waited for before
    # axe runs; with `press`, that button is pressed first (it saves and comes back).
    then: str = ""
    press: str = ""

    def url(self, ids: dict) -> str:
        return reverse(self.route, args=[ids[key] for key in self.keys])


MANAGER_STEPS = [
    Step("dashboard", "accounts:dashboard"),
    Step("my-work", "accounts:my_work"),
    Step("account", "accounts:detail", ("acme",)),
    Step("account-handed-off", "accounts:detail", ("dunmore",)),
    Step("account-ready", "accounts:detail", ("granite",)),
    Step("vitally", "vitally_sync:panel", ("acme",)),
    Step("account-new", "accounts:create"),
    Step("account-new-errors", "accounts:create", submit="Create account",
         fill={"CRM link": "javascript:alert(1)"}),
    Step("account-edit", "accounts:edit", ("acme",)),
    Step("history", "accounts:history", ("acme",)),
    Step("production-edit", "deployments:production_edit", ("acme",)),
    Step("production-edit-errors", "deployments:production_edit", ("acme",),
         submit="Save production deployment", fill={"Total CPU": "-4"}),
    Step("environment-new", "deployments:environment_create", ("acme",)),
    Step("environment-new-errors", "deployments:environment_create", ("acme",),
         submit="Save environment"),
    Step("environment-edit", "deployments:environment_edit", ("cobalt", "environment")),
    Step("environment-remove", "deployments:environment_delete", ("cobalt", "environment")),
    Step("code-hosts", "deployments:code_hosts_edit", ("acme",)),
    Step("notes", "logs:journal_list", ("acme",)),
    Step("note-new", "logs:journal_create", ("acme",)),
    Step("note-new-errors", "logs:journal_create", ("acme",), submit="Add note"),
    Step("note-edit", "logs:journal_edit", ("acme", "entry")),
    Step("issues", "logs:issue_list", ("acme",)),
    Step("issue-new", "logs:issue_create", ("acme",)),
    Step("issue-new-errors", "logs:issue_create", ("acme",), submit="Add issue"),
    Step("issue", "logs:issue_detail", ("acme", "issue")),
    Step("issue-edit", "logs:issue_edit", ("acme", "issue")),
    Step("risks", "logs:risk_list", ("acme",)),
    Step("risk-new", "logs:risk_create", ("acme",)),
    Step("risk-new-errors", "logs:risk_create", ("acme",), submit="Add risk"),
    Step("risk", "logs:risk_detail", ("acme", "risk")),
    Step("risk-edit", "logs:risk_edit", ("acme", "risk")),
    Step("opportunities", "logs:opportunity_list", ("acme",)),
    Step("opportunity-new", "logs:opportunity_create", ("acme",)),
    Step("opportunity-new-errors", "logs:opportunity_create", ("acme",),
         submit="Add opportunity"),
    Step("opportunity", "logs:opportunity_detail", ("acme", "opportunity")),
    Step("opportunity-edit", "logs:opportunity_edit", ("acme", "opportunity")),
    Step("open-issues", "logs:issue_overview"),
    Step("risk-heatmap", "logs:risk_heatmap"),
    Step("vitally-sync", "vitally_sync:health"),
    Step("vitally-import", "vitally_sync:import"),
    Step("vitally-import-errors", "vitally_sync:import", submit="Import the chosen accounts"),
    Step("request-handoff", "closeout:handoff_request_confirm", ("acme",)),
    Step("checklist-item", "closeout:checklist_item", ("acme", "item")),
    Step("sign-off", "closeout:sign_off", ("granite",)),
    Step("sign-off-errors", "closeout:sign_off", ("granite",), submit="Sign off"),
    Step("sign-off-record", "closeout:sign_off_detail", ("dunmore", "sign_off")),
    Step("reopen", "closeout:reopen", ("dunmore",)),
    Step("reopen-errors", "closeout:reopen", ("dunmore",), submit="Reopen the account"),
]  # fmt: skip

# ie: Acme, Borealis, Ion and Lumen in implementation, Cobalt ready, Dunmore and Helix handed off.
IE_STEPS = [
    Step("dashboard", "accounts:dashboard"),
    Step("my-work", "accounts:my_work"),
    Step("account", "accounts:detail", ("acme",)),
    Step("account-handed-off", "accounts:detail", ("dunmore",)),  # no longer theirs to edit
    Step("handoff", "accounts:detail", ("acme",), then="role=link[name='Request handoff…']"),
    Step("handoff-ready", "accounts:detail", ("cobalt",),
         then="role=button[name='Withdraw handoff request']"),
    Step("account-new-errors", "accounts:create", submit="Create account",
         fill={"CRM link": "data:text/html,x"}),
    Step("account-edit", "accounts:edit", ("acme",)),
    Step("production-edit-errors", "deployments:production_edit", ("acme",),
         submit="Save production deployment", fill={"Total Memory (GB)": "-1"}),
    Step("code-hosts", "deployments:code_hosts_edit", ("acme",)),
    Step("notes", "logs:journal_list", ("acme",)),
    Step("note-new-errors", "logs:journal_create", ("acme",), submit="Add note"),
    Step("issues", "logs:issue_list", ("acme",)),
    Step("issues-handed-off", "logs:issue_list", ("dunmore",)),
    Step("risk", "logs:risk_detail", ("acme", "risk")),
    Step("opportunities", "logs:opportunity_list", ("acme",)),
    Step("checklist-item", "closeout:checklist_item", ("acme", "item")),
    Step("password", "password_change"),
    Step("password-errors", "password_change", submit="Change password"),
]  # fmt: skip

# ta: Acme and Ion in implementation (Ion reviewed, then changed), Cobalt and Granite ready,
# Dunmore and Juniper handed off (theirs to maintain).
TA_STEPS = [
    Step("dashboard", "accounts:dashboard"),
    Step("my-work", "accounts:my_work"),
    Step("handoff-changes", "accounts:detail", ("ion",), then=".changes-since"),
    Step("handoff-reviewed", "accounts:detail", ("ion",), press="Mark handoff reviewed",
         then="text=No changes by others since your review"),
    Step("handoff", "accounts:detail", ("acme",),
         then="text=You have not reviewed this handoff yet"),
    Step("handoff-ready", "accounts:detail", ("granite",),
         then="role=button[name='Acknowledge the account']"),
    Step("handoff-handed-off", "accounts:detail", ("dunmore",)),  # the checklist, signed
    Step("account", "accounts:detail", ("acme",)),  # read-only before handoff
    Step("account-handed-off", "accounts:detail", ("dunmore",),
         then="role=link[name='Edit account']"),  # theirs to maintain
    Step("production-edit", "deployments:production_edit", ("dunmore",)),
    Step("issues-handed-off", "logs:issue_list", ("dunmore",)),
    Step("issue-new-errors", "logs:issue_create", ("dunmore",), submit="Add issue"),
    Step("risks-handed-off", "logs:risk_list", ("dunmore",)),
    Step("open-issues", "logs:issue_overview"),
    Step("risk-heatmap", "logs:risk_heatmap"),
]  # fmt: skip

STEPS = {"manager": MANAGER_STEPS, "ie": IE_STEPS, "ta": TA_STEPS}

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def _ids() -> dict[str, int]:
    accounts = {a.name: a.pk for a in Account.objects.all()}
    acme = accounts["Acme Robotics"]
    dunmore = accounts["Dunmore Logistics"]
    cobalt = accounts["Cobalt Health"]
    return {
        "acme": acme,
        "granite": accounts["Granite Insurance"],
        "cobalt": cobalt,
        "ion": accounts["Ion Semiconductors"],
        "dunmore": dunmore,
        "entry": JournalEntry.objects.filter(account_id=acme).first().pk,
        "issue": Issue.objects.filter(account_id=acme).first().pk,
        "risk": Risk.objects.filter(account_id=acme).first().pk,
        "opportunity": ExpansionOpportunity.objects.filter(account_id=acme).first().pk,
        "environment": Environment.objects.get(account_id=cobalt, kind="staging").pk,
        "item": ChecklistItem.objects.filter(account_id=acme).order_by("position").first().pk,
        "sign_off": SignOff.objects.filter(account_id=dunmore).latest("pk").pk,
    }


def _fits_a_phone(page, where: str, *, signed_in: bool = True) -> None:
    """At 390×844: no sideways scrolling, axe clean, and the Menu works by keyboard."""
    page.set_viewport_size(PHONE)
    try:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page is {width} px wide at {PHONE['width']} px"
        assert_accessible(page)
        if signed_in:
            _menu_opens_by_keyboard(page)
    except AssertionError as error:
        raise AssertionError(f"{where} at 390 px: {error}") from None
    finally:
        page.set_viewport_size(DESKTOP)


def _menu_opens_by_keyboard(page) -> None:
    """Tab to Menu, Enter: each link of the main navigation, then Sign out, in Tab order and in
    view; Escape closes the menu and focus returns to the button."""
    menu = page.get_by_role("button", name="Menu")
    sign_out = page.get_by_role("button", name="Sign out")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(sign_out).to_be_hidden()  # folded away until asked for
    page.locator(".skip-link").focus()
    page.keyboard.press("Tab")  # the brand
    page.keyboard.press("Tab")
    expect(menu).to_be_focused()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    links = page.get_by_role("navigation", name="Main").get_by_role("link")
    names = [links.nth(i).inner_text() for i in range(links.count())]
    assert names, "the menu holds no links"
    reached = []
    for _ in range(len(names) + 5):  # room for a control beside Sign out
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "[document.activeElement.textContent.trim(),"
            " !!document.activeElement.closest('#topbar-menu')]"
        )
        assert focused[1], f"Tab left the menu at {focused[0]!r} after {reached}"
        if focused[0] == "Sign out":
            break
        reached.append(focused[0])
    expect(sign_out).to_be_focused()
    expect(sign_out).to_be_in_viewport()
    assert [name for name in reached if name in names] == names, f"Tab reached {reached}"
    page.keyboard.press("Escape")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_focused()


@pytest.mark.parametrize("role", list(STEPS))
def test_every_main_page_is_accessible_and_looked_at(role, page, live_server, template, screenshot):
    call_command("seed_demo", stdout=io.StringIO())
    ids = _ids()

    if role == "manager":  # signed out: once is enough
        page.goto(f"{live_server.url}/sign-in/")
        assert_accessible(page)
        screenshot("page-sign-in")
        _fits_a_phone(page, "sign-in", signed_in=False)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_selector(".form-errors, .error")
        assert_accessible(page)
        screenshot("page-sign-in-errors")
        _fits_a_phone(page, "sign-in-errors", signed_in=False)

    sign_in(page, live_server, role, DEMO_PASSWORD)
    for step in STEPS[role]:
        response = page.goto(live_server.url + step.url(ids))
        assert response.status == 200, f"{role} {step.name}"
        if step.then and not step.press:
            page.wait_for_selector(step.then)  # the state this step is about is on the page
        if step.submit:
            for label, value in (step.fill or {}).items():
                page.get_by_label(label, exact=True).fill(value)
            page.get_by_role("button", name=step.submit, exact=True).click()
            page.wait_for_selector(".error, .form-errors")
        if step.press:
            with page.expect_navigation():
                page.get_by_role("button", name=step.press, exact=True).click()
            page.wait_for_selector(step.then)
        try:
            assert_accessible(page)
        except AssertionError as error:
            raise AssertionError(f"{role} {step.name}: {error}") from None
        screenshot(f"page-{role}-{step.name}")
        _fits_a_phone(page, f"{role} {step.name}")
        page.set_viewport_size(PHONE)
        screenshot(f"page-{role}-{step.name}-390")
        page.set_viewport_size(DESKTOP)
