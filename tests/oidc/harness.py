"""Start and drive the local OpenID provider (tests/oidc/provider.mjs: panva's oidc-provider).

Used by the SSO tests' fixtures (tests/oidc/conftest.py) and by `make run-sso`
(`manage.py run_sso_provider`)."""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("provider.mjs")
PACKAGE = ROOT / "node_modules" / "oidc-provider" / "package.json"

# The people the provider knows (people.json), by login name, which is also their `sub`: ivy,
# theo and mona are in groups that the portal maps to a role in tests and in `make run-sso`,
# olga is in none of them.
DEMO_PEOPLE = json.loads(Path(__file__).with_name("people.json").read_text())
DEMO_GROUP_ROLES = {"handoff-ie": "ie", "handoff-ta": "ta", "handoff-managers": "manager"}
DEMO_STAFF_GROUPS = ["handoff-admins"]
SCOPES = "openid email profile groups"


class ProviderMissing(RuntimeError):
    """Node or the npm package is not installed (`make install` runs `npm ci`)."""


def free_port(low: int = 9100, high: int = 9199) -> int:
    """A free port on loopback, from the range the project's SSO tests use."""
    for port in range(low, high + 1):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port on 127.0.0.1 between {low} and {high}")


def node_path() -> str:
    node = shutil.which("node")
    if not node:
        raise ProviderMissing("node is not installed (apt-get install nodejs npm)")
    if not PACKAGE.exists():
        raise ProviderMissing("node_modules/oidc-provider is missing: run `make install` (npm ci)")
    return node


@dataclass
class LocalProvider:
    """A running provider: its issuer, the portal's client and the test control API."""

    port: int
    client_id: str
    client_secret: str
    control_token: str
    process: subprocess.Popen | None = None
    people: dict = field(default_factory=lambda: json.loads(json.dumps(DEMO_PEOPLE)))

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _put(self, path: str, body: dict) -> None:
        response = requests.put(
            f"{self.issuer}/__test__/{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.control_token}"},
            timeout=10,
        )
        response.raise_for_status()

    def person_set(self, login: str, **claims) -> None:
        """Change a person's claims (their groups, say) before their next sign-in."""
        self.people[login] = {**self.people.get(login, {}), **claims}
        self._put(f"accounts/{login}", self.people[login])

    def mode_set(self, *, id_token_claims: dict | None = None, foreign_key: bool = False) -> None:
        """The token endpoint hands out ID tokens with `id_token_claims` replaced (signed by the
        provider's key), or signed by a key it does not publish (`foreign_key`)."""
        self._put("mode", {"idTokenClaims": id_token_claims, "idTokenForeignKey": foreign_key})

    def reset(self) -> None:
        self.mode_set()
        for login, claims in DEMO_PEOPLE.items():
            self.people[login] = dict(claims)
            self._put(f"accounts/{login}", self.people[login])

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)


def provider_start(
    *,
    redirect_uris: list[str],
    post_logout_redirect_uris: list[str],
    port: int | None = None,
    client_id: str = "handoff",
    client_secret: str | None = None,
    control: bool = True,
    log=None,
) -> LocalProvider:
    """Start provider.mjs on loopback and wait until its discovery document answers."""
    node = node_path()
    provider = LocalProvider(
        port=port or free_port(),
        client_id=client_id,
        client_secret=client_secret or secrets.token_urlsafe(24),
        control_token=secrets.token_urlsafe(24) if control else "",
    )
    env = {
        **os.environ,
        "OIDC_PORT": str(provider.port),
        "OIDC_CLIENT_ID": client_id,
        "OIDC_CLIENT_SECRET": provider.client_secret,
        "OIDC_REDIRECT_URIS": ",".join(redirect_uris),
        "OIDC_POST_LOGOUT_REDIRECT_URIS": ",".join(post_logout_redirect_uris),
        "OIDC_CONTROL_TOKEN": provider.control_token,
    }
    provider.process = subprocess.Popen(  # noqa: S603  # our own script, by absolute path
        [node, str(SCRIPT)],
        env=env,
        cwd=ROOT,
        stdout=log or subprocess.DEVNULL,
        stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
        start_new_session=True,  # its own process group, stopped as one
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if provider.process.poll() is not None:
            raise RuntimeError(f"the OpenID provider exited ({provider.process.returncode})")
        try:
            discovery = f"{provider.issuer}/.well-known/openid-configuration"
            if requests.get(discovery, timeout=1).ok:
                return provider
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    provider.stop()
    raise RuntimeError("the OpenID provider did not answer within 20 s")
