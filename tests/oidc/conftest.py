"""Fixtures for the SSO tests: a real OpenID provider (tests/oidc/provider.mjs, panva's
oidc-provider) on a free loopback port, with a client whose redirect URI is the live server's.

Never skipped: without node or the npm package the tests fail and say how to install them
(`make install` runs `npm ci`)."""

import pytest

from tests.oidc.harness import (
    DEMO_GROUP_ROLES,
    DEMO_STAFF_GROUPS,
    SCOPES,
    ProviderMissing,
    provider_start,
)


@pytest.fixture(scope="session")
def oidc_provider(live_server):
    try:
        provider = provider_start(
            redirect_uris=[
                f"{live_server.url}/sign-in/sso/callback/",
                "http://testserver/sign-in/sso/callback/",
            ],
            post_logout_redirect_uris=[f"{live_server.url}/sign-in/", "http://testserver/sign-in/"],
        )
    except ProviderMissing as missing:
        pytest.fail(f"The SSO tests need the local OpenID provider: {missing}.")
    yield provider
    provider.stop()


@pytest.fixture
def sso(settings, oidc_provider):
    """The portal configured for the local provider, whose people and test mode start afresh."""
    oidc_provider.reset()
    settings.OIDC_ISSUER = oidc_provider.issuer
    settings.OIDC_CLIENT_ID = oidc_provider.client_id
    settings.OIDC_CLIENT_SECRET = oidc_provider.client_secret
    settings.OIDC_SCOPES = SCOPES
    settings.OIDC_GROUPS_CLAIM = "groups"
    settings.OIDC_GROUP_ROLES = dict(DEMO_GROUP_ROLES)
    settings.OIDC_STAFF_GROUPS = list(DEMO_STAFF_GROUPS)
    return oidc_provider
