from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from playwright.sync_api import Page


def provider_sign_in(page: Page, provider, login: str) -> None:
    """On the provider's own login page (oidc-provider's), sign in as `login`."""
    page.wait_for_url(f"{provider.issuer}/interaction/**")
    page.locator('input[name="login"]').fill(login)
    page.locator('input[name="password"]').fill("any password: the dev login page takes it")
    page.get_by_role("button", name="Sign-in").click()


def sso_sign_in(page: Page, live_server, provider, login: str) -> None:
    """From the portal's sign-in page, through the provider's, back to the portal."""
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_role("link", name="Sign in with SSO").click()
    provider_sign_in(page, provider, login)
    page.wait_for_url(f"{live_server.url}/**")


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    return urlunsplit(parts._replace(query=urlencode({**query, **changes})))


def query_value(url: str, name: str) -> str:
    return parse_qs(urlsplit(url).query)[name][0]
