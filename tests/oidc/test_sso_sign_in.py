"""Sign-in with SSO in Chromium, through the provider's own login page (a real oidc-provider on
loopback, tests/oidc/provider.mjs): who gets in, with which role, and what is refused."""

import pytest
from playwright.sync_api import expect

from handoff.audit.models import AuditEvent
from handoff.people.models import SsoIdentity, User
from tests.browser.helpers import assert_accessible
from tests.oidc.helpers import provider_sign_in, query_value, sso_sign_in, with_query

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _signed_out(page, live_server) -> None:
    """Nobody is signed in to the portal in this browser: My work asks for the sign-in."""
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/sign-in/?next=/")


def test_first_sign_in_creates_the_person_with_the_role_of_their_group(
    page, live_server, sso, screenshot
):
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("link", name="Sign in with SSO")).to_be_visible()
    assert_accessible(page)
    screenshot("sso-sign-in")
    page.get_by_role("link", name="Sign in with SSO").click()
    provider_sign_in(page, sso, "ivy")

    expect(page).to_have_url(f"{live_server.url}/")  # the `next` of the sign-in page
    expect(page.get_by_role("heading", name="My work", level=1)).to_be_visible()
    expect(page.locator(".who")).to_contain_text("Ivy Iqbal · Implementation Engineer")
    expect(page.get_by_role("link", name="Admin")).to_have_count(0)

    identity = SsoIdentity.objects.select_related("user").get()
    assert (identity.issuer, identity.subject) == (sso.issuer, "ivy")
    person = identity.user
    assert (person.first_name, person.last_name) == ("Ivy", "Iqbal")
    assert person.email == "ivy@example.com"
    assert (person.role, person.is_staff, person.is_superuser) == ("ie", False, False)
    assert not person.has_usable_password()  # nobody signs in as them with a password
    created = AuditEvent.objects.get(object_type="people.user", object_id=str(person.pk))
    assert created.action == AuditEvent.Kind.CREATE
    assert {c["field"]: c["after"] for c in created.changes}["role"] == "Implementation Engineer"


def test_a_manager_in_the_staff_group_is_staff(page, live_server, sso):
    sso_sign_in(page, live_server, sso, "mona")
    expect(page.locator(".who")).to_contain_text("Mona Moreau · Manager")
    expect(page.get_by_role("link", name="Admin")).to_be_visible()
    person = User.objects.get(sso_identities__subject="mona")
    assert (person.role, person.is_staff, person.is_superuser) == ("manager", True, False)


def test_a_group_change_at_the_provider_changes_the_role_at_the_next_sign_in(
    page, live_server, sso
):
    sso_sign_in(page, live_server, sso, "ivy")
    expect(page.locator(".who")).to_contain_text("Implementation Engineer")
    person = User.objects.get(sso_identities__subject="ivy")

    # At the provider: another group, and a new e-mail and user name (the `sub` stays).
    sso.person_set("ivy", groups=["handoff-ta", "handoff-admins"], email="ivy.iqbal@example.com")
    page.context.clear_cookies()
    sso_sign_in(page, live_server, sso, "ivy")
    expect(page.locator(".who")).to_contain_text("Ivy Iqbal · Technical Advisor")

    assert User.objects.count() == 1  # the same person, found by issuer + sub
    person.refresh_from_db()
    assert (person.role, person.is_staff, person.email) == ("ta", True, "ivy.iqbal@example.com")
    update = AuditEvent.objects.filter(action=AuditEvent.Kind.UPDATE).get()
    assert update.object_id == str(person.pk)
    changes = {c["field"]: (c["before"], c["after"]) for c in update.changes}
    assert changes == {
        "email": ("ivy@example.com", "ivy.iqbal@example.com"),
        "role": ("Implementation Engineer", "Technical Advisor"),
        "is_staff": ("No", "Yes"),
    }

    # Out of every group: refused at the next sign-in.
    sso.person_set("ivy", groups=["engineering"])
    page.context.clear_cookies()
    sso_sign_in(page, live_server, sso, "ivy")
    expect(page.get_by_role("heading", name="You have no access to Handoff")).to_be_visible()
    _signed_out(page, live_server)


def test_a_person_in_no_mapped_group_is_refused_with_the_groups_that_give_access(
    page, live_server, sso, screenshot
):
    sso_sign_in(page, live_server, sso, "olga")
    expect(page.get_by_role("heading", name="You have no access to Handoff")).to_be_visible()
    groups = page.locator("main li")
    expect(groups).to_have_text(["handoff-admins", "handoff-ie", "handoff-managers", "handoff-ta"])
    assert_accessible(page)
    screenshot("sso-refused-no-group")
    page.set_viewport_size({"width": 390, "height": 844})  # on a phone: no sideways scrolling
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(page)
    assert not User.objects.exists()
    _signed_out(page, live_server)

    # Another company account: "Sign in with SSO" alone would sign olga in again, so the page
    # ends the provider's session first, then the provider asks who signs in.
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_role("link", name="Sign in with SSO").click()  # no login page: straight back
    expect(page.get_by_role("heading", name="You have no access to Handoff")).to_be_visible()
    page.get_by_role("link", name="Sign out of the company account").click()
    page.wait_for_url(f"{sso.issuer}/session/end**")
    page.get_by_role("button", name="Yes, sign me out").click()
    expect(page).to_have_url(f"{live_server.url}/sign-in/")
    page.get_by_role("link", name="Sign in with SSO").click()
    page.wait_for_url(f"{sso.issuer}/interaction/**")
    expect(page.locator('input[name="login"]')).to_be_visible()


def test_a_deactivated_person_is_refused_and_their_session_ends(page, live_server, sso):
    sso_sign_in(page, live_server, sso, "theo")
    expect(page.locator(".who")).to_contain_text("Theo Tanaka · Technical Advisor")
    User.objects.filter(sso_identities__subject="theo").update(is_active=False)  # an admin's act

    _signed_out(page, live_server)  # the open session no longer lets them in
    page.context.clear_cookies()
    sso_sign_in(page, live_server, sso, "theo")
    expect(page.get_by_role("heading", name="Your access to Handoff is turned off")).to_be_visible()
    _signed_out(page, live_server)
    assert not User.objects.get(sso_identities__subject="theo").is_active


def test_a_tampered_state_is_refused(page, live_server, sso):
    """The provider sends back a state the portal did not give (it was changed on the way)."""

    def tamper(route):
        answer = route.fetch(max_redirects=0)
        location = answer.headers["location"]
        assert query_value(location, "code_challenge_method") == "S256"  # PKCE
        assert query_value(location, "nonce")
        route.fulfill(status=302, headers={"Location": with_query(location, state="forged")})

    page.route("**/sign-in/sso/", tamper)
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_role("link", name="Sign in with SSO").click()
    provider_sign_in(page, sso, "ivy")
    expect(page.get_by_role("heading", name="Sign-in with SSO did not complete")).to_be_visible()
    assert not User.objects.exists()
    _signed_out(page, live_server)


def test_a_replayed_code_is_refused(page, live_server, sso):
    callbacks = []
    page.on(
        "request",
        lambda request: "/sign-in/sso/callback/" in request.url and callbacks.append(request.url),
    )
    sso_sign_in(page, live_server, sso, "ivy")
    expect(page.locator(".who")).to_contain_text("Ivy Iqbal")
    (used,) = callbacks

    # The same answer again, in another browser: its state was used up.
    page.context.clear_cookies()
    page.goto(used)
    expect(page.get_by_role("heading", name="Sign-in with SSO did not complete")).to_be_visible()
    _signed_out(page, live_server)

    # The used code with a state the portal just gave: the provider refuses the code itself.
    def replay(route):
        fresh_state = query_value(route.fetch(max_redirects=0).headers["location"], "state")
        route.fulfill(status=302, headers={"Location": with_query(used, state=fresh_state)})

    page.route("**/sign-in/sso/", replay)
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_role("link", name="Sign in with SSO").click()
    expect(page.get_by_role("heading", name="Sign-in with SSO did not complete")).to_be_visible()
    _signed_out(page, live_server)


@pytest.mark.parametrize(
    ("altered", "foreign_key"),
    [
        pytest.param({"aud": "another-app"}, False, id="for another audience"),
        pytest.param({"aud": ["handoff", "another-app"]}, False, id="for several, azp not us"),
        pytest.param({"iss": "https://evil.example.com"}, False, id="from another issuer"),
        pytest.param({"exp": 1_000_000_000}, False, id="expired"),
        pytest.param({"nonce": "not-the-portals"}, False, id="another nonce"),
        pytest.param(None, True, id="signed by a key the provider does not publish"),
    ],
)
def test_an_id_token_that_is_not_for_us_now_is_refused(
    page, live_server, sso, altered, foreign_key
):
    """Handed out by the provider's own token endpoint, each valid in every way but one."""
    if altered and "aud" in altered and isinstance(altered["aud"], list):
        altered = {**altered, "aud": [sso.client_id, "another-app"], "azp": "another-app"}
    sso.mode_set(id_token_claims=altered, foreign_key=foreign_key)
    sso_sign_in(page, live_server, sso, "ivy")
    expect(page.get_by_role("heading", name="Sign-in with SSO did not complete")).to_be_visible()
    assert not User.objects.exists()
    _signed_out(page, live_server)


def test_the_same_provider_answer_unaltered_signs_in(page, live_server, sso):
    """The test above re-signs the provider's token: done without a change, it is accepted."""
    sso.mode_set(id_token_claims={})
    sso_sign_in(page, live_server, sso, "ivy")
    expect(page.locator(".who")).to_contain_text("Ivy Iqbal")


def test_an_admin_lets_an_existing_person_be_claimed_at_their_first_sso_sign_in(
    page, live_server, sso
):
    """People made before SSO keep their records: an admin ticks "May claim this person" and
    the first SSO sign-in with that (verified) e-mail is that person, not a new one; without
    the tick, the same e-mail makes a new person (never found by e-mail alone)."""
    from handoff.accounts.models import Account
    from tests.factories import AccountFactory, UserFactory

    irene = UserFactory(
        username="irene", email="ivy@example.com", role=User.Role.IMPLEMENTATION_ENGINEER
    )
    AccountFactory(name="Acme Robotics", implementation_engineer=irene)
    twin = UserFactory(username="ivy-old", email="IVY@example.com", role="ie")  # not allowed
    irene.sso_claim_allowed = True
    irene.save(update_fields=["sso_claim_allowed"])

    sso_sign_in(page, live_server, sso, "ivy")
    expect(page.get_by_role("link", name="Acme Robotics")).to_be_visible()  # her My work
    irene.refresh_from_db()
    assert SsoIdentity.objects.get().user == irene
    assert not irene.sso_claim_allowed  # used once
    assert (irene.first_name, irene.last_name) == ("Ivy", "Iqbal")  # the provider's now
    assert Account.objects.get().implementation_engineer == irene
    linked = AuditEvent.objects.filter(object_type="people.user", object_id=str(irene.pk))
    assert "as an admin allowed" in linked.get().message
    assert User.objects.filter(email__iexact="ivy@example.com").count() == 2  # no third
    assert not SsoIdentity.objects.filter(user=twin).exists()
