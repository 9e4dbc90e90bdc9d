"""The SSO settings: each configuration example in the README loads into the portal's settings
as it says, and wrong values stop the portal at startup."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
PRINT = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps([s.OIDC_ISSUER, s.OIDC_CLIENT_ID, s.OIDC_SCOPES, s.OIDC_GROUPS_CLAIM, "
    "s.OIDC_GROUP_ROLES, s.OIDC_STAFF_GROUPS, s.LOCAL_LOGIN]))"
)


def _example(provider: str) -> dict[str, str]:
    """The ```sh block under the README's '#### <provider>' heading, as variables."""
    section = README.split(f"#### {provider}\n", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return dict(word.split("=", 1) for word in shlex.split(block, comments=True))


def _settings(variables: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OIDC_", "LOCAL_LOGIN"))}
    env.update(DEBUG="0", SECRET_KEY="s" * 50, DJANGO_SETTINGS_MODULE="handoff.settings")
    return subprocess.run(
        [sys.executable, "-c", PRINT], env={**env, **variables}, capture_output=True, text=True
    )


def _loaded(variables: dict[str, str]) -> list:
    import json

    run = _settings(variables)
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout)


def test_the_okta_example():
    issuer, client, scopes, claim, roles, staff, local = _loaded(_example("Okta"))
    assert issuer == "https://acme.okta.com/oauth2/default"
    assert (client, scopes, claim) == (
        "0oa1b2c3d4e5f6g7h8i9",
        "openid email profile groups",
        "groups",
    )
    assert roles == {
        "CE Implementation": "ie",
        "CE Technical Advisors": "ta",
        "CE Managers": "manager",
    }
    assert (staff, local) == (["CE Handoff Admins"], False)


def test_the_entra_id_example():
    issuer, _, scopes, claim, roles, staff, _ = _loaded(_example("Entra ID (Azure AD)"))
    assert issuer == "https://login.microsoftonline.com/2f4a9c1e-8b7d-4e3f-9a6b-5c4d3e2f1a0b/v2.0"
    assert (scopes, claim) == ("openid email profile", "groups")
    assert sorted(roles.values()) == ["ie", "manager", "ta"]
    assert staff == ["5a1b2c3d-0000-4000-8000-000000000004"]


def test_the_google_workspace_example():
    issuer, _, _, claim, roles, staff, _ = _loaded(_example("Google Workspace"))
    assert (issuer, claim, roles, staff) == (
        "https://accounts.google.com",
        "hd",
        {"acme.com": "ie"},
        [],
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"OIDC_GROUP_ROLES": '{"ce": "admin"}'}, "OIDC_GROUP_ROLES is JSON mapping group to role"),
        ({"OIDC_GROUP_ROLES": "ce=ie"}, "OIDC_GROUP_ROLES is JSON mapping group to role"),
        ({"OIDC_CLIENT_SECRET": ""}, "OIDC_ISSUER needs OIDC_CLIENT_ID, OIDC_CLIENT_SECRET"),
        ({"OIDC_ISSUER": "http://sso.example.com"}, "OIDC_ISSUER must be an https:// URL"),
    ],
)
def test_a_wrong_setting_stops_the_portal(change, message):
    run = _settings({**_example("Okta"), **change})
    assert run.returncode != 0
    assert message in run.stderr
