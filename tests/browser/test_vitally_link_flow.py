"""In Chromium, with a real Celery worker and the fake Vitally: an implementation engineer
creates a new account and links it, by typing part of its name, to a Vitally account that
already holds the production deployment's values. The account's Vitally panel says Vitally held
them when the account was linked (not that someone changed them there); one click on "Take all
of Vitally's values" takes them: the production deployment shows them, History says where they
came from, and the worker's push leaves the account Synced."""

import pytest
from celery.contrib.testing.worker import start_worker
from playwright.sync_api import expect

from handoff.accounts.models import Account
from handoff.audit.models import AuditEvent
from handoff.celery import app
from handoff.people.models import User
from tests.browser.helpers import assert_accessible, sign_in
from tests.conftest import ARTIFACTS
from tests.factories import UserFactory
from tests.vitally_sync.conftest import fake_vitally_running
from vitally_sync.limiter import limiter_get
from vitally_sync.mirror import mirror_pull
from vitally_sync.models import TraitDifference

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# What Vitally holds for Globex: the production deployment as someone typed it there before
# the portal existed; nothing the portal counts or moves through a workflow.
HELD = {
    "vitally.custom.deploymentType": "Kubernetes with Helm",
    "vitally.custom.infrastructureHostingProvider": "AWS",
    "vitally.custom.sourcegraphInstanceUrl": "https://sourcegraph.globex.example",
    "vitally.custom.prodInfraStartDate": "2026-08-03T00:00:00.000Z",
    "vitally.custom.machineInstanceTypes": "3 × m6a.4xlarge",
    "vitally.custom.totalCpu": 48,
    "vitally.custom.totalMemoryGb": 192,
    "vitally.custom.totalDiskSpaceGb": 2000,
}


@pytest.fixture
def vitally(settings):
    for url in (settings.REDIS_URL, ""):
        limiter_get(url).reset()
    with fake_vitally_running(settings) as fake:
        settings.VITALLY_MIRROR_SHARE = 1.0
        fake.account_create(external_id="globex", name="Globex Corporation", traits=HELD)
        assert mirror_pull(full=True).completed
        yield fake
    limiter_get(settings.REDIS_URL).reset()


@pytest.fixture
def worker():
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=60):
        yield
    app.control.purge()


def test_link_a_new_account_and_take_all_of_vitallys_values(
    page, live_server, screenshot, vitally, worker
):
    UserFactory(username="irene", first_name="Irene", role=User.Role.IMPLEMENTATION_ENGINEER)
    sign_in(page, live_server, "irene")
    page.get_by_role("link", name="Accounts", exact=True).click()
    page.get_by_role("link", name="New account").click()
    page.get_by_label("Account name").fill("Globex")
    field = page.get_by_label("Vitally account id")
    field.press_sequentially("glob", delay=30)
    page.locator("#vitally-search-results").get_by_role("button", name="Globex Corporation").click()
    # Before the save, the form says the link will bring Vitally's values to decide about.
    expect(page.locator("#vitally-search-results")).to_contain_text(
        f"Vitally holds values for {len(HELD)} of the portal's fields: after the save"
    )
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Globex", level=1)).to_be_visible()
    account = Account.objects.get(name="Globex")
    assert TraitDifference.objects.filter(account=account).count() == len(HELD)

    # The panel says where the values come from, and offers to take them all at once.
    panel = page.locator("#vitally-panel")
    expect(panel.locator(".badge")).to_have_text("Differs in Vitally", timeout=20_000)
    differences = panel.locator("#vitally-differences")
    expect(differences).to_contain_text(
        f"Vitally already held values for these {len(HELD)} fields when the account was linked"
    )
    expect(differences).not_to_contain_text("after the portal sent")
    cpu = differences.locator(".difference", has_text="Total CPU")
    expect(cpu.get_by_role("button", name="Clear Vitally's value")).to_be_visible()
    take_all = differences.get_by_role("button", name="Take all of Vitally's values")
    expect(take_all).to_be_visible()
    assert_accessible(page)
    screenshot("vitally-link-differences")
    ARTIFACTS.mkdir(exist_ok=True)
    panel.screenshot(path=str(ARTIFACTS / "vitally-link-panel.png"))
    # On a phone nothing in the panel sticks out of the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    wide = page.evaluate(
        """() => Array.from(document.querySelectorAll('#vitally-panel *'))
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .map(e => e.tagName + '.' + e.className)"""
    )
    assert wide == [], wide
    assert_accessible(page)
    panel.screenshot(path=str(ARTIFACTS / "vitally-link-panel-390.png"))
    page.set_viewport_size({"width": 1366, "height": 900})

    take_all.click()
    # The account page comes back whole: the message, and the production deployment filled.
    expect(page.locator(".message").first).to_contain_text(
        f"Took Vitally's values of {len(HELD)} fields"
    )
    production = page.locator("#production-deployment")
    expect(production).to_contain_text("https://sourcegraph.globex.example")
    expect(production).to_contain_text("Kubernetes with Helm")
    expect(production).to_contain_text("3 × m6a.4xlarge")
    for value in ("48", "192", "2,000"):
        expect(production).to_contain_text(value)
    # The worker pushes the record; Vitally holds what it held, and the account is Synced.
    expect(page.locator("#vitally-panel .badge")).to_have_text("Synced", timeout=20_000)
    expect(page.locator(f"#vitally-badge-{account.pk}")).to_have_text("Synced")
    assert not TraitDifference.objects.filter(account=account).exists()
    traits = vitally.account_get(account.vitally_account_id)["traits"]
    assert {key: traits[key] for key in HELD} == HELD
    assert AuditEvent.objects.filter(
        account=account, message__startswith="Taken from Vitally: Total CPU was empty"
    ).exists()
    assert_accessible(page)
    screenshot("vitally-link-taken")
    page.locator(".messages").screenshot(path=str(ARTIFACTS / "vitally-link-taken-message.png"))
    page.goto("about:blank")  # the panel polls while pending: no request at teardown
