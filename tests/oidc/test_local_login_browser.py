"""The sign-in page in Chromium as production serves it (LOCAL_LOGIN off), and the throttle."""

import pytest
from playwright.sync_api import expect

from handoff.people.models import User
from tests.browser.helpers import assert_accessible
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_with_local_login_off_only_sso_is_offered(page, live_server, sso, settings, screenshot):
    settings.LOCAL_LOGIN = False
    page.goto(f"{live_server.url}/sign-in/")
    expect(page.get_by_role("link", name="Sign in with SSO")).to_be_visible()
    expect(page.get_by_label("Password")).to_have_count(0)
    expect(page.get_by_role("button", name="Sign in")).to_have_count(0)
    assert_accessible(page)
    screenshot("sso-sign-in-only")


def test_too_many_wrong_passwords_lock_the_name_with_a_clear_message(
    page, live_server, sso, settings, screenshot
):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="irene", first_name="Irene", role=User.Role.IMPLEMENTATION_ENGINEER)
    page.goto(f"{live_server.url}/sign-in/")
    locked = (
        "Too many failed sign-ins with this user name or from this address. "
        "Wait 15 minutes, then try again, or sign in with SSO."
    )
    for attempt, password in enumerate(["wrong-1", "wrong-2", "wrong-3", "pw-for-tests-1"]):
        page.get_by_label("Username").fill("irene")
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in", exact=True).click()
        if attempt < 2:
            expect(page.get_by_role("alert")).to_contain_text("Please enter a correct username")
        else:  # the third failure locks the name; then even the right password is refused
            expect(page.get_by_role("alert")).to_have_text(locked)
    expect(page.get_by_role("alert")).to_have_text(locked)
    assert_accessible(page)
    screenshot("sign-in-locked-out")
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/sign-in/?next=/")
