"""In Chromium: link an account by typing part of its Vitally name (keyboard only), and import
two accounts from Vitally; both pages fit a 390 px phone and pass axe."""

import pytest
from playwright.sync_api import expect

from handoff.accounts.models import Account
from handoff.people.models import User
from tests.browser.helpers import assert_accessible, sign_in
from tests.conftest import ARTIFACTS as ARTIFACTS_DIR
from tests.factories import AccountFactory, UserFactory
from vitally_sync.mirror import mirror_pull
from vitally_sync.models import VitallyAccount

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def pulled(fake_vitally, settings):
    settings.VITALLY_MIRROR_SHARE = 1.0
    for external_id, name in (
        ("globex", "Globex Corporation"),
        ("hooli", "Hooli"),
        ("initech", "Initech"),
        ("umbrella", "Umbrella Corporation"),
    ):
        fake_vitally.account_create(
            external_id=external_id, name=name, traits={"vitally.custom.totalCpu": 32}
        )
    assert mirror_pull(full=True).completed
    return fake_vitally


def fits(page) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow} px"


def test_link_an_account_by_typing_part_of_its_name(page, live_server, pulled):
    irene = UserFactory(
        username="irene", first_name="Irene", role=User.Role.IMPLEMENTATION_ENGINEER
    )
    account = AccountFactory(name="Globex", vitally_account_id="", implementation_engineer=irene)
    sign_in(page, live_server, "irene")
    page.goto(f"{live_server.url}/accounts/{account.pk}/edit/")
    field = page.get_by_label("Vitally account id")
    field.fill("")
    field.press_sequentially("glob", delay=30)
    results = page.locator("#vitally-search-results")
    pick = results.get_by_role("button", name="Globex Corporation")
    expect(pick).to_be_visible()
    row = VitallyAccount.objects.get(name="Globex Corporation")
    expect(pick).to_contain_text(row.vitally_id)
    expect(pick).to_contain_text("globex")
    assert_accessible(page)
    for width, suffix in ((1366, "1366"), (390, "390")):
        page.set_viewport_size({"width": width, "height": 900 if width > 400 else 844})
        fits(page)
        ARTIFACTS_DIR.mkdir(exist_ok=True)
        page.screenshot(
            path=str(ARTIFACTS_DIR / f"vitally-link-search-{suffix}.png"), full_page=True
        )
    # By keyboard: down to the result, Enter chooses it, the field holds its id.
    field.focus()
    field.press("ArrowDown")
    expect(pick).to_be_focused()
    page.keyboard.press("Enter")
    expect(field).to_have_value(row.vitally_id)
    expect(field).to_be_focused()
    page.get_by_role("button", name="Save account").click()
    expect(page.locator(".message")).to_contain_text("Account saved.")
    account.refresh_from_db()
    assert account.vitally_account_id == row.vitally_id
    page.goto("about:blank")  # the saved message polls the sync badge: no request at teardown


def test_import_two_accounts(page, live_server, pulled):
    UserFactory(username="maya", first_name="Maya", role=User.Role.MANAGER)
    sign_in(page, live_server, "maya")
    page.goto(f"{live_server.url}/accounts/")
    page.get_by_role("link", name="Import from Vitally").click()
    expect(page.get_by_role("heading", name="Import accounts from Vitally")).to_be_visible()
    page.get_by_label("Filter by name").fill("o")
    expect(page.locator("#import-rows li")).to_have_count(3)  # Globex, Hooli, Umbrella
    page.get_by_label("Hooli").check()
    # Filtering again keeps what was chosen (the change event of the filter fires too).
    page.get_by_label("Filter by name").fill("umbrella")
    expect(page.locator("#import-rows li")).to_have_count(2)  # Umbrella, and Hooli kept
    expect(page.get_by_label("Hooli")).to_be_checked()
    page.get_by_label("Umbrella Corporation").check()
    assert_accessible(page)
    page.set_viewport_size({"width": 390, "height": 844})
    fits(page)
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS_DIR / "vitally-import-390.png"), full_page=True)
    page.get_by_role("button", name="Import the chosen accounts").click()
    expect(page.locator(".message").first).to_contain_text("Imported 2 accounts from Vitally")
    assert set(Account.objects.values_list("name", flat=True)) == {"Hooli", "Umbrella Corporation"}
    # Back on the list as filtered ("umbrella"): nothing left to import there.
    expect(page.locator("#import-rows li")).to_have_count(0)
    expect(page.locator("#import-rows")).to_contain_text("No Vitally account not yet in the")
    fits(page)
    page.goto("about:blank")
