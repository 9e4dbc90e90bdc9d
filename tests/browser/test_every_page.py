"""axe on every main page of the portal, with the demo data, in Chromium at 1366×900.

Each page (and each form's error state) must have no serious or critical axe violation, and is
saved to tests/artifacts/page-<role>-<name>.png to be looked at. Each of the demo's three
people walks the pages they see in one browser session of their own, because the pages differ
by role: the manager's sign-off and reopen, the implementation engineer's own accounts with
their edit controls (and a handed-off account without them), the technical advisor's handoff
pages (acknowledge, the changes since their last review, before and after marking it
reviewed) and the handed-off accounts the TA maintains."""

import io
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.urls import reverse

from handoff.accounts.demo import DEMO_PASSWORD
from handoff.accounts.models import Account
from handoff.closeout.models import ChecklistItem, SignOff
from logs.models import ExpansionOpportunity, Issue, JournalEntry, Risk
from tests.browser.helpers import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@dataclass(frozen=True)
class Step:
    name: str
    url: Callable[[dict], str]
    # Submit the form as it is (or after `fill`), to see its error state.
    submit: str = ""
    fill: dict | None = None
    # A selector for the state the step is about (a role's control, a list), waited for before
    # axe runs; with `press`, that button is pressed first (it saves and comes back).
    then: str = ""
    press: str = ""


def _account(name: str) -> Callable[[dict], int]:
    return lambda ids: ids[name]


def _url(route: str, *keys: str) -> Callable[[dict], str]:
    return lambda ids: reverse(route, args=[ids[k] for k in keys])


MANAGER_STEPS = [
    Step("dashboard", lambda ids: reverse("accounts:dashboard")),
    Step("my-work", lambda ids: reverse("accounts:my_work")),
    Step("account", _url("accounts:detail", "acme")),
    Step("account-handed-off", _url("accounts:detail", "dunmore")),
    Step("handoff", _url("closeout:handoff", "acme")),
    Step("handoff-ready", _url("closeout:handoff", "granite")),
    Step("handoff-handed-off", _url("closeout:handoff", "dunmore")),
    Step("account-new", lambda ids: reverse("accounts:create")),
    Step("account-new-errors", lambda ids: reverse("accounts:create"), submit="Create account",
         fill={"CRM link": "javascript:alert(1)"}),
    Step("account-edit", _url("accounts:edit", "acme")),
    Step("production-edit", _url("deployments:production_edit", "acme")),
    Step("production-edit-errors", _url("deployments:production_edit", "acme"),
         submit="Save production deployment", fill={"Total CPU": "-4"}),
    Step("environment-new", _url("deployments:environment_create", "acme")),
    Step("environment-new-errors", _url("deployments:environment_create", "acme"),
         submit="Save environment"),
    Step("code-hosts", _url("deployments:code_hosts_edit", "acme")),
    Step("notes", _url("logs:journal_list", "acme")),
    Step("note-new", _url("logs:journal_create", "acme")),
    Step("note-new-errors", _url("logs:journal_create", "acme"), submit="Add note"),
    Step("note-edit", _url("logs:journal_edit", "acme", "entry")),
    Step("issues", _url("logs:issue_list", "acme")),
    Step("issue-new", _url("logs:issue_create", "acme")),
    Step("issue-new-errors", _url("logs:issue_create", "acme"), submit="Add issue"),
    Step("issue", _url("logs:issue_detail", "acme", "issue")),
    Step("issue-edit", _url("logs:issue_edit", "acme", "issue")),
    Step("risks", _url("logs:risk_list", "acme")),
    Step("risk-new", _url("logs:risk_create", "acme")),
    Step("risk-new-errors", _url("logs:risk_create", "acme"), submit="Add risk"),
    Step("risk", _url("logs:risk_detail", "acme", "risk")),
    Step("risk-edit", _url("logs:risk_edit", "acme", "risk")),
    Step("opportunities", _url("logs:opportunity_list", "acme")),
    Step("opportunity-new", _url("logs:opportunity_create", "acme")),
    Step("opportunity-new-errors", _url("logs:opportunity_create", "acme"),
         submit="Add opportunity"),
    Step("opportunity", _url("logs:opportunity_detail", "acme", "opportunity")),
    Step("open-issues", lambda ids: reverse("logs:issue_overview")),
    Step("risk-heatmap", lambda ids: reverse("logs:risk_heatmap")),
    Step("checklist-item", _url("closeout:checklist_item", "acme", "item")),
    Step("sign-off", _url("closeout:sign_off", "granite")),
    Step("sign-off-errors", _url("closeout:sign_off", "granite"), submit="Sign off"),
    Step("sign-off-record", _url("closeout:sign_off_detail", "dunmore", "sign_off")),
    Step("reopen", _url("closeout:reopen", "dunmore")),
    Step("reopen-errors", _url("closeout:reopen", "dunmore"), submit="Reopen the account"),
]  # fmt: skip

# ie: Acme, Borealis, Ion and Lumen in implementation, Cobalt ready, Dunmore and Helix handed off.
IE_STEPS = [
    Step("dashboard", lambda ids: reverse("accounts:dashboard")),
    Step("my-work", lambda ids: reverse("accounts:my_work")),
    Step("account", _url("accounts:detail", "acme")),
    Step("account-handed-off", _url("accounts:detail", "dunmore")),  # no longer theirs to edit
    Step("handoff", _url("closeout:handoff", "acme"), then="role=button[name='Request handoff']"),
    Step("handoff-ready", _url("closeout:handoff", "cobalt"),
         then="role=button[name='Withdraw handoff request']"),
    Step("handoff-handed-off", _url("closeout:handoff", "dunmore")),
    Step("account-new-errors", lambda ids: reverse("accounts:create"), submit="Create account",
         fill={"CRM link": "data:text/html,x"}),
    Step("account-edit", _url("accounts:edit", "acme")),
    Step("production-edit-errors", _url("deployments:production_edit", "acme"),
         submit="Save production deployment", fill={"Total Memory (GB)": "-1"}),
    Step("code-hosts", _url("deployments:code_hosts_edit", "acme")),
    Step("notes", _url("logs:journal_list", "acme")),
    Step("note-new-errors", _url("logs:journal_create", "acme"), submit="Add note"),
    Step("issues", _url("logs:issue_list", "acme")),
    Step("issues-handed-off", _url("logs:issue_list", "dunmore")),
    Step("risk", _url("logs:risk_detail", "acme", "risk")),
    Step("opportunities", _url("logs:opportunity_list", "acme")),
    Step("checklist-item", _url("closeout:checklist_item", "acme", "item")),
]  # fmt: skip

# ta: Acme and Ion in implementation (Ion reviewed, then changed), Cobalt and Granite ready,
# Dunmore and Juniper handed off (theirs to maintain).
TA_STEPS = [
    Step("dashboard", lambda ids: reverse("accounts:dashboard")),
    Step("my-work", lambda ids: reverse("accounts:my_work")),
    Step("handoff-changes", _url("closeout:handoff", "ion"), then=".changes-since"),
    Step("handoff-reviewed", _url("closeout:handoff", "ion"), press="Mark handoff reviewed",
         then="text=No changes by others since your review"),
    Step("handoff", _url("closeout:handoff", "acme"),
         then="text=You have not reviewed this handoff yet"),
    Step("handoff-ready", _url("closeout:handoff", "granite"),
         then="role=button[name='Acknowledge the account']"),
    Step("handoff-handed-off", _url("closeout:handoff", "dunmore")),  # the checklist, signed
    Step("account", _url("accounts:detail", "acme")),  # read-only before handoff
    Step("account-handed-off", _url("accounts:detail", "dunmore"),
         then="role=link[name='Edit account']"),  # theirs to maintain
    Step("production-edit", _url("deployments:production_edit", "dunmore")),
    Step("issues-handed-off", _url("logs:issue_list", "dunmore")),
    Step("issue-new-errors", _url("logs:issue_create", "dunmore"), submit="Add issue"),
    Step("risks-handed-off", _url("logs:risk_list", "dunmore")),
    Step("open-issues", lambda ids: reverse("logs:issue_overview")),
    Step("risk-heatmap", lambda ids: reverse("logs:risk_heatmap")),
]  # fmt: skip

STEPS = {"manager": MANAGER_STEPS, "ie": IE_STEPS, "ta": TA_STEPS}


def _ids() -> dict[str, int]:
    accounts = {a.name: a.pk for a in Account.objects.all()}
    acme = accounts["Acme Robotics"]
    dunmore = accounts["Dunmore Logistics"]
    return {
        "acme": acme,
        "granite": accounts["Granite Insurance"],
        "cobalt": accounts["Cobalt Health"],
        "ion": accounts["Ion Semiconductors"],
        "dunmore": dunmore,
        "entry": JournalEntry.objects.filter(account_id=acme).first().pk,
        "issue": Issue.objects.filter(account_id=acme).first().pk,
        "risk": Risk.objects.filter(account_id=acme).first().pk,
        "opportunity": ExpansionOpportunity.objects.filter(account_id=acme).first().pk,
        "item": ChecklistItem.objects.filter(account_id=acme).order_by("position").first().pk,
        "sign_off": SignOff.objects.filter(account_id=dunmore).latest("pk").pk,
    }


@pytest.mark.parametrize("role", list(STEPS))
def test_every_main_page_is_accessible_and_looked_at(role, page, live_server, template, screenshot):
    call_command("seed_demo", stdout=io.StringIO())
    ids = _ids()

    if role == "manager":  # signed out: once is enough
        page.goto(f"{live_server.url}/sign-in/")
        assert_accessible(page)
        screenshot("page-sign-in")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_selector(".form-errors, .error")
        assert_accessible(page)
        screenshot("page-sign-in-errors")

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
