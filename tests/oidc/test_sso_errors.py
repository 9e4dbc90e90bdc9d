"""SSO when it is off, when the provider cannot be reached or is not who it says, and a
callback that did not come from a sign-in this browser started."""

import logging

from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from handoff.people.sso import ID_TOKEN_SESSION_KEY
from tests.factories import UserFactory
from tests.oidc.harness import free_port


def test_without_an_issuer_there_is_no_sso(client, db, settings):
    settings.OIDC_ISSUER = ""
    assert "Sign in with SSO" not in client.get(reverse("login")).content.decode()
    assert client.get(reverse("sso_start")).status_code == 404
    assert client.get(reverse("sso_callback"), {"code": "x", "state": "y"}).status_code == 404


def test_an_unreachable_provider_gets_a_page_that_says_so(client, db, settings, caplog):
    settings.OIDC_ISSUER = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings.OIDC_CLIENT_ID = "handoff"
    with caplog.at_level(logging.ERROR, logger="handoff.security"):
        response = client.get(reverse("sso_start"))
    assert response.status_code == 502
    assert "The identity provider did not answer" in response.content.decode()
    assert any("discovery" in r.getMessage() for r in caplog.records)


def test_a_discovery_document_of_another_issuer_is_not_used(client, db, sso, settings):
    settings.OIDC_ISSUER = sso.issuer + "/"  # its discovery names the issuer without the slash
    response = client.get(reverse("sso_start"))
    assert response.status_code == 502


def test_a_callback_this_browser_did_not_start_is_refused(client, db, sso, caplog):
    with caplog.at_level(logging.WARNING, logger="handoff.security"):
        response = client.get(reverse("sso_callback"), {"code": "abc", "state": "forged"})
    assert response.status_code == 400
    assert "Sign-in with SSO did not complete" in response.content.decode()
    assert SESSION_KEY not in client.session
    assert any("SSO sign-in refused" in r.getMessage() for r in caplog.records)


def test_sign_out_with_the_provider_down_still_ends_the_portal_session(client, db, settings):
    settings.OIDC_ISSUER = f"http://127.0.0.1:{free_port()}"
    settings.OIDC_CLIENT_ID = "handoff"
    client.force_login(UserFactory(username="ivy"))
    session = client.session
    session[ID_TOKEN_SESSION_KEY] = "an.id.token"
    session.save()
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response.url == reverse("login")
    assert SESSION_KEY not in client.session
