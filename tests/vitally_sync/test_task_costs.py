"""What the five daily tasks cost in clicks and page loads (issue 14), on the demo data in
Chromium with a real worker pushing to the fake Vitally: edit the production deployment and see
Vitally synced, add an issue, mark a checklist item, acknowledge, sign off; and the technical
advisor's morning round (what needs them across their accounts). The figures are asserted
exactly (they are the design's, not the machine's) and written to
tests/artifacts/task-costs.json for the issue's note. Sign-in is not counted."""

import io
import json
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.management import call_command
from playwright.sync_api import expect

from handoff.accounts.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from handoff.celery import app
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
ARTIFACT = Path(__file__).resolve().parents[1] / "artifacts" / "task-costs.json"


class Counter:
    """Clicks made through it, and full page loads (an htmx swap is not one)."""

    def __init__(self, page):
        self.page, self.clicks, self.loads = page, 0, 0
        page.on("load", lambda _: self._loaded())

    def _loaded(self):
        self.loads += 1

    def click(self, locator):
        self.clicks += 1
        locator.click()

    def start(self):
        self.clicks = self.loads = 0

    def cost(self) -> dict:
        return {"clicks": self.clicks, "page_loads": self.loads}


@pytest.fixture
def worker():
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=60):
        yield
    app.control.purge()


def test_the_five_daily_tasks_and_the_morning_round(page, live_server, fake_vitally, worker):
    for name, vitally_id, *_ in DEMO_ACCOUNTS:
        if vitally_id:
            fake_vitally.account_create(external_id=vitally_id, name=name)
    call_command("seed_demo", stdout=io.StringIO())
    page.set_viewport_size({"width": 1366, "height": 900})
    counter, costs = Counter(page), {}

    # --- ie, from My work ------------------------------------------------------------------------
    sign_in(page, live_server, "ie", DEMO_PASSWORD)
    counter.start()
    counter.click(page.locator("#my-accounts").get_by_role("link", name="Ion Semiconductors"))
    counter.click(page.get_by_role("link", name="Edit production deployment"))
    page.get_by_label("Total Disk Space (GB)").fill("2500")
    counter.click(page.get_by_role("button", name="Save production deployment"))
    expect(page.locator(".messages")).to_contain_text("Production deployment saved.")
    expect(page.locator(".messages")).to_contain_text("Synced", timeout=20_000)  # live, no click
    costs["edit production and see Vitally synced"] = counter.cost()

    counter.start()
    counter.click(page.get_by_role("link", name="Add an issue"))
    page.get_by_label("Title").fill("Indexing stalls on the monorepo")
    page.get_by_label("Description").fill("zoekt-indexserver restarts under memory pressure.")
    counter.click(page.get_by_role("button", name="Add issue"))
    expect(page.get_by_text("Indexing stalls on the monorepo").first).to_be_visible()
    costs["add an issue"] = counter.cost()

    expect(page.locator("#issues-log")).to_be_visible()  # the save came back to the account page
    counter.start()
    item = page.locator(".checklist-item.status-open").first
    counter.click(item.get_by_role("button", name="Done"))
    expect(page.locator(".checklist-item .saved").first).to_be_visible()
    costs["mark a checklist item done"] = counter.cost()
    page.get_by_role("button", name="Sign out").click()

    # --- ta: the morning round, then acknowledge ------------------------------------------------
    sign_in(page, live_server, "ta", DEMO_PASSWORD)
    counter.start()
    counter.loads = 1  # My work itself, where sign-in lands
    for section in ("#acknowledge", "#changes", "#items-due"):
        expect(page.locator(section)).to_be_visible()
    costs["technical advisor's morning round (what needs them)"] = counter.cost()

    counter.start()
    counter.click(page.locator("#acknowledge").get_by_role("link", name="Review and acknowledge"))
    counter.click(page.get_by_role("button", name="Acknowledge the account"))
    expect(page.get_by_text("You acknowledged this account.")).to_be_visible()
    costs["acknowledge"] = counter.cost()
    page.get_by_role("button", name="Sign out").click()

    # --- manager: sign off --------------------------------------------------------------------
    sign_in(page, live_server, "manager", DEMO_PASSWORD)
    counter.start()
    counter.click(page.locator("#sign-off").get_by_role("link", name="Review for sign-off").first)
    counter.click(page.get_by_role("link", name="Sign off…"))
    override = page.get_by_label("Override reason")
    if override.count():
        override.fill("Known and planned with the technical advisor.")
    counter.click(page.get_by_role("button", name="Sign off"))
    expect(page.get_by_role("heading", name="Sign-off of", exact=False)).to_be_visible()
    costs["sign off"] = counter.cost()

    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text(json.dumps(costs, indent=2) + "\n")
    assert costs == {
        "edit production and see Vitally synced": {"clicks": 3, "page_loads": 3},
        "add an issue": {"clicks": 2, "page_loads": 2},
        "mark a checklist item done": {"clicks": 1, "page_loads": 0},
        "technical advisor's morning round (what needs them)": {"clicks": 0, "page_loads": 1},
        "acknowledge": {"clicks": 2, "page_loads": 2},
        "sign off": {"clicks": 3, "page_loads": 3},
    }, costs
