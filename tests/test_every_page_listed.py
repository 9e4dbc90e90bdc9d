"""Every route of the URLconf is a page that tests/browser/test_every_page.py walks (axe at
1366 and 390 px, no sideways scrolling, the Menu by keyboard), or is skipped here with a reason.
A new page fails this test until it is one or the other."""

from django.urls import URLPattern, URLResolver, get_resolver

from tests.browser.test_every_page import STEPS

_POST = "POST only: a button on a walked page, whose result page is walked"
_FRAGMENT = "an htmx fragment of a walked page (a plain GET goes to that page)"
SKIPPED = {
    "logout": "POST only: the top bar's Sign out, pressed by the Menu check",
    "healthz": "JSON for the load balancer, not a page",
    "sso_start": "a redirect to the identity provider (tests/oidc walk it in Chromium)",
    "sso_callback": "the identity provider's redirect back (tests/oidc: its pages and refusals)",
    "vitally_sync:metrics": "Prometheus text for the scraper, not a page",
    "logs:journal_export": "a CSV download",
    "logs:issue_export": "a CSV download",
    "logs:risk_export": "a CSV download",
    "logs:opportunity_export": "a CSV download",
    "closeout:handoff_markdown": "a Markdown download",
    "closeout:sign_off_markdown": "a Markdown download",
    "logs:journal_entry": _FRAGMENT,
    "logs:issue_row": _FRAGMENT,
    "logs:risk_row": _FRAGMENT,
    "logs:opportunity_row": _FRAGMENT,
    "deployments:instance_check": _FRAGMENT,
    "accounts:mine": "the old address of My accounts: a redirect to the dashboard's filter",
    "accounts:my_work_count": _FRAGMENT,
    "vitally_sync:account_search": _FRAGMENT + " (the account form's Vitally field)",
    "closeout:handoff": "the old address of the handoff page: a redirect to the account page",
    "closeout:handoff_request": _POST,
    "closeout:handoff_withdraw": _POST,
    "closeout:handoff_acknowledge": _POST,
    "closeout:handoff_mark_reviewed": _POST,
    "closeout:checklist_start": _POST,
    "vitally_sync:push": _POST,
    "vitally_sync:read": _POST,
    "vitally_sync:difference_keep": _POST,
    "vitally_sync:difference_take": _POST,
    "vitally_sync:differences_take_all": _POST,
    "vitally_sync:note_send": _POST,
    "vitally_sync:note_leave": _POST,
    "logs:risk_occurred": _POST,
    "logs:issue_note_add": _POST,
    "logs:issue_status": _POST,
    "logs:risk_status": _POST,
    "logs:opportunity_stage": _POST,
}
# Walked outside the steps: the sign-in page, signed out. Django's admin is its own (admin tests).
WALKED_ELSEWHERE = {"login"}
NOT_OURS = {"admin"}


def _routes(resolver: URLResolver, prefix: str = "") -> set[str]:
    names = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace in NOT_OURS:
                continue
            namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            names |= _routes(pattern, namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(prefix + pattern.name)
    return names


def test_every_route_is_walked_in_the_browser_or_skipped_with_a_reason():
    routes = _routes(get_resolver())
    walked = {step.route for steps in STEPS.values() for step in steps} | WALKED_ELSEWHERE
    assert not walked & set(SKIPPED), "walked and skipped at once"
    assert walked | set(SKIPPED) >= routes, (
        "pages neither walked by tests/browser/test_every_page.py nor skipped here: "
        f"{sorted(routes - walked - set(SKIPPED))}"
    )
    assert routes >= walked | set(SKIPPED), (
        f"no such route: {sorted(walked | set(SKIPPED) - routes)}"
    )
