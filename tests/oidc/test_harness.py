"""The local OpenID provider the SSO tests sign in through is a real one: discovery, PKCE,
signing keys, sign-out, and a control API that only the tests hold the key to."""

import requests


def test_the_provider_serves_discovery_with_pkce_and_sign_out(oidc_provider):
    config = requests.get(
        f"{oidc_provider.issuer}/.well-known/openid-configuration", timeout=10
    ).json()
    assert config["issuer"] == oidc_provider.issuer
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert config["end_session_endpoint"] == f"{oidc_provider.issuer}/session/end"
    keys = requests.get(config["jwks_uri"], timeout=10).json()["keys"]
    assert [(key["kty"], key["alg"]) for key in keys] == [("RSA", "RS256")]
    assert "d" not in keys[0]  # the public half only


def test_the_control_api_needs_the_tests_token(oidc_provider):
    url = f"{oidc_provider.issuer}/__test__/accounts/ivy"
    assert requests.put(url, json={"groups": []}, timeout=10).status_code == 404
    wrong = {"Authorization": "Bearer not-the-token"}
    assert requests.put(url, json={"groups": []}, headers=wrong, timeout=10).status_code == 404
    oidc_provider.person_set("ivy", groups=["handoff-ta"])  # with the token: 204
    assert oidc_provider.people["ivy"]["groups"] == ["handoff-ta"]
    oidc_provider.reset()
