"""Sign out ends the portal's session and, for a session that came from the provider, the
provider's too (RP-initiated logout at its end_session_endpoint), in Chromium."""

import pytest
from playwright.sync_api import expect

from handoff.people.models import User
from tests.browser.helpers import sign_in
from tests.factories import UserFactory
from tests.oidc.helpers import sso_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_out_ends_the_portal_and_the_provider_session(page, live_server, sso):
    sso_sign_in(page, live_server, sso, "ivy")
    expect(page.locator(".who")).to_contain_text("Ivy Iqbal")
    page.get_by_role("button", name="Sign out").click()

    # The provider asks (its own page), then sends the browser back to the portal's sign-in.
    page.wait_for_url(f"{sso.issuer}/session/end**")
    page.get_by_role("button", name="Yes, sign me out").click()
    expect(page).to_have_url(f"{live_server.url}/sign-in/")
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/sign-in/?next=/")

    # Signing in with SSO again asks for the provider's login: its session is gone too.
    page.get_by_role("link", name="Sign in with SSO").click()
    page.wait_for_url(f"{sso.issuer}/interaction/**")
    expect(page.locator('input[name="login"]')).to_be_visible()


def test_without_sign_out_the_provider_would_sign_in_again_without_asking(page, live_server, sso):
    """What the test above rules out: the provider's session outlives the portal's."""
    sso_sign_in(page, live_server, sso, "ivy")
    page.context.clear_cookies(domain="localhost")  # the portal's session only
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_role("link", name="Sign in with SSO").click()
    expect(page.locator(".who")).to_contain_text("Ivy Iqbal")  # straight back, no login page


def test_a_password_session_signs_out_of_the_portal_only(page, live_server, sso):
    UserFactory(username="irene", first_name="Irene", role=User.Role.IMPLEMENTATION_ENGINEER)
    sign_in(page, live_server, "irene")
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server.url}/sign-in/")
    assert not [url for url in requests if url.startswith(sso.issuer)]
