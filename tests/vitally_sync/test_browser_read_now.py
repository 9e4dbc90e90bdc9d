"""The Vitally panel's notice outlives the panel's own polling (htmx every 2 s), in a real
Chromium: after "Take all of Vitally's values" on the Vitally page the account has a push on its
way and the panel polls, yet the message stays; and "Read Vitally back now" says it was
requested, polls until the read lands, then says what was found."""

import time

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import assert_accessible, sign_in
from tests.vitally_sync.conftest import CPU, deployed_and_pushed
from tests.vitally_sync.test_e2e import clean_broker  # noqa: F401  (fixture: no worker here)
from vitally_sync.reconcile import reconcile_pass

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
MEMORY = "vitally.custom.totalMemoryGb"


def polls_of(page, account) -> list[str]:
    """The panel's polling requests the page makes from now on."""
    seen: list[str] = []
    panel = f"/accounts/{account.pk}/vitally/"
    page.on(
        "request",
        lambda request: (
            seen.append(request.url)
            if request.method == "GET"
            and panel in request.url
            and request.headers.get("hx-request")
            else None
        ),
    )
    return seen


def test_the_take_all_message_stays_while_the_panel_polls(
    page, live_server, fake_vitally, account, ie
):
    deployed_and_pushed(fake_vitally, ie, account)
    fake_vitally.hand_edit(account.vitally_account_id, {CPU: 64, MEMORY: 256})
    assert len(reconcile_pass(due_only=False).lines) == 2
    sign_in(page, live_server, "irene")
    page.goto(f"{live_server.url}/accounts/{account.pk}/vitally/")
    polls = polls_of(page, account)
    page.get_by_role("button", name="Take all of Vitally's values").click()
    # Wherever the page puts it, one message says what was taken.
    notice = page.get_by_role("status").filter(has_text="Took Vitally's values")
    expect(notice).to_have_count(1)
    # The taken values are a push on its way (no worker here): the panel polls itself...
    expect(page.locator("#vitally-panel[data-hx-trigger='every 2s']")).to_have_count(1)
    deadline = time.monotonic() + 10
    while len(polls) < 2 and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    assert len(polls) >= 2, polls
    page.wait_for_timeout(300)  # the last poll's swap settled
    # ... and the message is still there, once.
    expect(notice).to_have_count(1)
    expect(page.locator("#vitally-notice")).to_contain_text("Took Vitally's values")
    assert_accessible(page)


def test_read_now_says_requested_polls_and_then_what_was_found(
    page, live_server, fake_vitally, account, ie
):
    deployed_and_pushed(fake_vitally, ie, account)
    sign_in(page, live_server, "irene")
    page.goto(f"{live_server.url}/accounts/{account.pk}/#vitally")
    polls = polls_of(page, account)
    fake_vitally.hand_edit(account.vitally_account_id, {CPU: 64})  # someone, in Vitally
    page.get_by_role("button", name="Read Vitally back now").click()
    notice = page.locator("#vitally-notice")
    expect(notice.get_by_role("status")).to_contain_text("Read back requested")
    deadline = time.monotonic() + 10
    while len(polls) < 2 and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    assert len(polls) >= 2 and all("read=" in url for url in polls), polls
    expect(notice.get_by_role("status")).to_contain_text("Read back requested")

    # What the queued task does (no worker runs in this test): the account read now.
    assert reconcile_pass(account_ids=[account.pk], due_only=False).read == 1
    expect(notice.get_by_role("status")).to_contain_text(
        "Read back from Vitally just now: 1 field differs in Vitally (below)", timeout=10_000
    )
    differences = page.locator("#vitally-differences")
    expect(differences.locator(".difference", has_text="Total CPU")).to_be_visible()
    expect(page.locator("#vitally-panel[data-hx-trigger]")).to_have_count(0)  # it landed
    assert_accessible(page)
