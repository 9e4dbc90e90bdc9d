"""Every main page of the portal, and each form in its error state, rendered as the person who
sees the most of it, then the pages whose markup differs by role rendered again as the other
roles (ROLE_PAGES). The Nu HTML checker and the no-inline-script/style gate read the same list,
so a page added here is checked by both."""

from collections.abc import Callable
from dataclasses import dataclass

from django.test import Client
from django.urls import reverse

from handoff.closeout.models import SignOff
from tests.security.world import World


@dataclass(frozen=True)
class Page:
    name: str
    as_: str  # "" for signed out
    url: Callable[[World], str]
    post: Callable[[World], dict] | None = None  # a POST that fails validation: the error state
    shows: str = ""  # markup the page must contain: the role's state it is rendered for
    hides: str = ""  # markup it must not contain: what this role may not do here


def _u(name: str, *attrs: str) -> Callable[[World], str]:
    def url(w: World) -> str:
        return reverse(name, args=[getattr(w, a).pk for a in attrs])

    return url


def _sign_off_url(w: World) -> str:
    signed = SignOff.objects.filter(account=w.initech).latest("pk")
    return reverse("closeout:sign_off_detail", args=[w.initech.pk, signed.pk])


PAGES = [
    Page("sign-in", "", lambda w: reverse("login")),
    Page("sign-in-error", "", lambda w: reverse("login"), lambda w: {"username": "x"}),
    Page("dashboard", "manager", lambda w: reverse("accounts:dashboard")),
    Page(
        "dashboard-filtered",
        "manager",
        lambda w: reverse("accounts:dashboard") + "?q=acme&phase=implementation",
    ),
    Page("my-work", "ie", lambda w: reverse("accounts:my_work")),
    Page("dashboard-mine", "ie", lambda w: reverse("accounts:dashboard") + "?mine=on"),
    Page("account", "ie", _u("accounts:detail", "acme"), shows="Edit account"),
    Page("account-handed-off", "manager", _u("accounts:detail", "initech")),
    Page("account-new", "ie", lambda w: reverse("accounts:create")),
    Page(
        "account-new-errors",
        "ie",
        lambda w: reverse("accounts:create"),
        lambda w: {"name": "", "crm_url": "javascript:x"},
    ),
    Page("account-edit", "ie", _u("accounts:edit", "acme")),
    Page("account-history", "ta", _u("accounts:history", "acme")),
    Page("handoff", "ie", _u("accounts:detail", "acme")),
    Page("request-handoff", "ie", _u("closeout:handoff_request_confirm", "acme")),
    Page("handoff-ready", "manager", _u("accounts:detail", "umbrella")),
    Page("handoff-handed-off", "ta", _u("accounts:detail", "initech")),
    Page("production-edit", "ie", _u("deployments:production_edit", "acme")),
    Page(
        "production-edit-errors",
        "ie",
        _u("deployments:production_edit", "acme"),
        lambda w: {
            "_action": "save",
            "version": str(w.production.version),
            "total_cpu": "-1",
            "sourcegraph_instance_url": "javascript:x",
            "documents-TOTAL_FORMS": "1",
            "documents-INITIAL_FORMS": "0",
            "documents-0-title": "",
            "documents-0-url": "data:text/plain,x",
            "instances-TOTAL_FORMS": "1",
            "instances-INITIAL_FORMS": "0",
            "instances-0-count": "0",
            "instances-0-instance_type": "m6a.large",
        },
    ),
    Page("environment-new", "ie", _u("deployments:environment_create", "acme")),
    Page("environment-edit", "ie", _u("deployments:environment_edit", "acme", "staging")),
    Page("code-hosts", "ie", _u("deployments:code_hosts_edit", "acme")),
    Page(
        "code-hosts-errors",
        "ie",
        _u("deployments:code_hosts_edit", "acme"),
        lambda w: {
            "_action": "save",
            "codehosts-TOTAL_FORMS": "1",
            "codehosts-INITIAL_FORMS": "0",
            "codehosts-0-kind": "",
            "codehosts-0-url": "javascript:x",
            "codehosts-0-repository_count": "-1",
        },
    ),
    Page("notes", "ie", _u("logs:journal_list", "acme")),
    Page("note-new", "ie", _u("logs:journal_create", "acme")),
    Page(
        "note-new-errors",
        "ie",
        _u("logs:journal_create", "acme"),
        lambda w: {"title": "", "reference_url": "javascript:x"},
    ),
    Page("note-edit", "ie", _u("logs:journal_edit", "acme", "entry")),
    Page("issues", "ie", _u("logs:issue_list", "acme"), shows='class="button small"'),
    Page("issue-new", "ie", _u("logs:issue_create", "acme")),
    Page(
        "issue-new-errors",
        "ie",
        _u("logs:issue_create", "acme"),
        lambda w: {"title": "", "owner": "0"},
    ),
    Page("issue", "ie", _u("logs:issue_detail", "acme", "issue")),
    Page("issue-edit", "ie", _u("logs:issue_edit", "acme", "issue")),
    Page(
        "issue-resolve-errors",
        "ie",
        _u("logs:issue_status", "acme", "issue"),
        lambda w: {"status": "resolved", "resolution": ""},
    ),
    Page("risks", "ie", _u("logs:risk_list", "acme")),
    Page("risk-new", "ie", _u("logs:risk_create", "acme")),
    Page(
        "risk-new-errors",
        "ie",
        _u("logs:risk_create", "acme"),
        lambda w: {"title": "", "likelihood": "9", "impact": "x"},
    ),
    Page("risk", "ie", _u("logs:risk_detail", "acme", "risk")),
    Page("risk-edit", "ie", _u("logs:risk_edit", "acme", "risk")),
    Page("opportunities", "ie", _u("logs:opportunity_list", "acme")),
    Page("opportunity-new", "ie", _u("logs:opportunity_create", "acme")),
    Page(
        "opportunity-new-errors",
        "ie",
        _u("logs:opportunity_create", "acme"),
        lambda w: {"title": "", "estimated_additional_users": "-5"},
    ),
    Page("opportunity", "ie", _u("logs:opportunity_detail", "acme", "opportunity")),
    Page("opportunity-edit", "ie", _u("logs:opportunity_edit", "acme", "opportunity")),
    Page("open-issues", "manager", lambda w: reverse("logs:issue_overview")),
    Page("risk-heatmap", "manager", lambda w: reverse("logs:risk_heatmap")),
    Page("vitally-sync", "manager", lambda w: reverse("vitally_sync:health")),
    Page(
        "vitally-sync-filtered",
        "manager",
        lambda w: reverse("vitally_sync:health") + "?state=trouble&manager=me",
    ),
    Page("checklist-item", "ie", _u("closeout:checklist_item", "acme", "item")),
    Page(
        "checklist-item-errors",
        "ie",
        _u("closeout:checklist_item", "acme", "item"),
        lambda w: {
            f"item-{w.item.position}-status": "not_applicable",
            f"item-{w.item.position}-evidence_url": "javascript:x",
            f"item-{w.item.position}-version": str(w.item.version),
        },
    ),
    Page("sign-off", "manager", _u("closeout:sign_off", "umbrella")),
    Page(
        "sign-off-errors",
        "manager",
        _u("closeout:sign_off", "umbrella"),
        lambda w: {"override_reason": "r" * 2001},
    ),
    Page("sign-off-record", "manager", _sign_off_url),
    Page("reopen", "manager", _u("closeout:reopen", "initech")),
    Page("reopen-errors", "manager", _u("closeout:reopen", "initech"), lambda w: {"reason": ""}),
]

# The same pages as other people see them: their controls differ (edit buttons and columns,
# the handoff buttons, the TA's review section, the top bar's links).
ROLE_PAGES = [
    Page("dashboard-as-ie", "ie", lambda w: reverse("accounts:dashboard")),
    Page("my-work-as-ta", "ta", lambda w: reverse("accounts:my_work")),
    Page("my-work-as-manager", "manager", lambda w: reverse("accounts:my_work")),
    Page("account-as-ta", "ta", _u("accounts:detail", "acme"),  # read-only before handoff
         hides="Edit account"),
    Page("account-handed-off-as-ie", "ie", _u("accounts:detail", "initech"),  # read-only
         hides="Edit account"),
    Page("account-handed-off-as-ta", "ta", _u("accounts:detail", "initech"), shows="Edit account"),
    Page("handoff-as-ta", "ta", _u("accounts:detail", "acme"), shows="Acknowledge the account"),
    Page("handoff-as-manager", "manager", _u("accounts:detail", "acme")),
    Page("handoff-ready-as-ta", "ta", _u("accounts:detail", "umbrella"),
         shows='<ol class="changes-since">'),  # what others changed since the TA's review
    Page("handoff-ready-as-ie", "ie", _u("accounts:detail", "umbrella"),
         shows="Withdraw handoff request"),
    Page("handoff-handed-off-as-ie", "ie", _u("accounts:detail", "initech")),
    Page("handoff-handed-off-as-manager", "manager", _u("accounts:detail", "initech"),
         shows="Reopen…"),
    Page("issues-as-ta", "ta", _u("logs:issue_list", "acme"), hides='class="button small"'),
    Page("issue-as-ta", "ta", _u("logs:issue_detail", "acme", "issue")),
    Page("risks-as-ta", "ta", _u("logs:risk_list", "acme")),
    Page("risk-as-ta", "ta", _u("logs:risk_detail", "acme", "risk")),
    Page("opportunities-as-ta", "ta", _u("logs:opportunity_list", "acme")),
    Page("notes-as-ta", "ta", _u("logs:journal_list", "acme")),
    Page("issues-handed-off-as-ta", "ta", _u("logs:issue_list", "initech"),
         shows="New issue"),
    Page("issues-handed-off-as-ie", "ie", _u("logs:issue_list", "initech"),
         hides="New issue"),  # the TA maintains the record now
    Page("open-issues-as-ta", "ta", lambda w: reverse("logs:issue_overview")),
    Page("risk-heatmap-as-ta", "ta", lambda w: reverse("logs:risk_heatmap")),
]  # fmt: skip


def pages_render(world: World) -> dict[str, str]:
    """name -> HTML of every page above (each asserted to be a 200)."""
    html = {}
    for page in [*PAGES, *ROLE_PAGES]:
        client = Client()
        if page.as_:
            client.force_login(world.user(page.as_))
        url = page.url(world)
        response = client.post(url, page.post(world)) if page.post else client.get(url)
        assert response.status_code == 200, f"{page.name}: {url} -> {response.status_code}"
        body = response.content.decode()
        if page.post:
            assert 'class="error"' in body or "form-errors" in body, f"{page.name}: no error"
        assert page.shows in body, f"{page.name}: {page.shows!r} is not on the page"
        assert not page.hides or page.hides not in body, f"{page.name}: shows {page.hides!r}"
        html[page.name] = body
    return html
