"""Someone changed two fields in Vitally by hand; the implementation engineer sees them on the
account's Vitally panel ("Differs in Vitally"), on a laptop and on a phone, keeps the portal's
value of one and is told why Vitally's value of the other cannot be taken (htmx; a resolution
loads the account page again whole)."""

import pytest
from playwright.sync_api import expect

from deployments.models import Environment
from deployments.services import DocumentLink, InstanceSpec, environment_create
from handoff.people.models import User
from tests.browser.helpers import assert_accessible, sign_in
from tests.conftest import ARTIFACTS as ARTIFACTS_DIR
from tests.factories import AccountFactory, UserFactory
from vitally_sync.models import TraitDifference
from vitally_sync.reconcile import reconcile_pass
from vitally_sync.services import sync_account_push

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def differing(fake_vitally):
    irene = UserFactory(
        username="irene",
        first_name="Irene",
        last_name="Adler",
        role=User.Role.IMPLEMENTATION_ENGINEER,
    )
    account = AccountFactory(
        name="Acme Robotics", vitally_account_id="acme-robotics", implementation_engineer=irene
    )
    fake_vitally.account_create(external_id="acme-robotics", name="Acme Robotics")
    environment_create(
        account=account,
        actor=irene,
        kind=Environment.Kind.PRODUCTION,
        data={
            "deployment_type": Environment.DeploymentType.KUBERNETES_HELM,
            "hosting_provider": Environment.HostingProvider.AWS,
            "sourcegraph_instance_url": "https://sourcegraph.acme-robotics.example",
            "total_cpu": 48,
            "total_memory_gb": 192,
            "total_disk_space_gb": 2000,
        },
        design_documents=[DocumentLink("Technical design", "https://docs.example.com/tdd")],
        instance_types=[InstanceSpec(3, "m6a.4xlarge")],
    )
    assert sync_account_push(account_id=account.pk).outcome.value == "pushed"
    fake_vitally.hand_edit(
        "acme-robotics",
        {
            "vitally.custom.totalCpu": 64,
            "vitally.custom.deploymentType": "Nomad on bare metal (see the runbook)",
            "vitally.custom.handoffStatus": "Handed off",
        },
    )
    assert len(reconcile_pass(due_only=False).lines) == 3
    return account


def test_differences_show_on_the_panel_and_are_resolved_from_the_account_page(
    page, live_server, differing, fake_vitally
):
    sign_in(page, live_server, "irene")
    page.goto(f"{live_server.url}/accounts/{differing.pk}/#vitally")
    panel = page.locator("#vitally-panel")
    differences = panel.locator("#vitally-differences")
    expect(differences.get_by_role("heading", name="Differs in Vitally")).to_be_visible()
    expect(differences.locator(".difference")).to_have_count(3)
    cpu = differences.locator(".difference", has_text="Total CPU")
    expect(cpu.locator("dd").first).to_have_text("48")
    expect(cpu.get_by_role("button", name="Take Vitally's value")).to_be_visible()
    phase = differences.locator(".difference", has_text="Handoff phase")
    expect(phase).to_contain_text("The phase moves only through the handoff workflow.")
    expect(phase.get_by_role("button", name="Take Vitally's value")).to_have_count(0)
    assert_accessible(page)
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    differences.screenshot(path=str(ARTIFACTS_DIR / "vitally-differences-1366.png"))
    panel.screenshot(path=str(ARTIFACTS_DIR / "vitally-panel-1366.png"))

    # A type Vitally has that the form does not offer: said beside the field before any click,
    # with no Take that would be refused.
    deployment = differences.locator(".difference", has_text="Deployment type")
    expect(deployment.get_by_role("button", name="Take Vitally's value")).to_have_count(0)
    expect(deployment.locator(".difference-reason")).to_contain_text(
        "is not one of the form's choices"
    )
    assert_accessible(page)

    page.set_viewport_size({"width": 390, "height": 844})
    page.locator("#vitally-differences").scroll_into_view_if_needed()
    page.locator("#vitally-differences").screenshot(
        path=str(ARTIFACTS_DIR / "vitally-differences-390.png")
    )
    page.locator("#vitally-panel").screenshot(path=str(ARTIFACTS_DIR / "vitally-panel-390.png"))
    # Nothing in the panel sticks out of a phone's screen (the page's topbar and some other
    # sections' tables do, which is not this panel's doing).
    wide = page.evaluate(
        """() => Array.from(document.querySelectorAll('#vitally-panel *'))
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .map(e => e.tagName + '.' + e.className)"""
    )
    assert wide == [], wide

    expect(page.locator("#attention")).to_contain_text("Differs in Vitally: Total CPU")
    page.locator("#vitally-differences .difference", has_text="Total CPU").get_by_role(
        "button", name="Keep the portal's value"
    ).click()
    # On the account page a resolution loads the page again whole, so no other section (the
    # attention list here) still shows the difference; the message says what was done.
    expect(page.locator(".messages")).to_contain_text("Kept the portal's value of Total CPU (48)")
    expect(page.locator("#vitally-differences .difference")).to_have_count(2)
    expect(page.locator("#attention")).not_to_contain_text("Differs in Vitally: Total CPU")
    assert not TraitDifference.objects.filter(trait_key="vitally.custom.totalCpu").exists()
    sync_account_push(account_id=differing.pk)
    assert fake_vitally.account_get("acme-robotics")["traits"]["vitally.custom.totalCpu"] == 48
