"""Bad input and access, table-driven: every form and action of the portal, attacked.

Each refused case asserts a clear refusal (the message beside the field, a message on the
page, or 403/404/405), never a 500, and the database exactly as it was (row counts and a hash
of every domain row, see tests/security/snapshot.py). The stored cases at the end assert that
what is accepted (script, HTML, odd Unicode) is shown escaped, never executed."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.deployments.test_views import code_host_post, production_post
from tests.factories import form_token
from tests.security.snapshot import db_snapshot, snapshot_diff
from tests.security.world import World

pytestmark = pytest.mark.django_db

SCRIPT = '<script>alert("pwned")</script>'
ESCAPED_SCRIPT = "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;"
IMG = '"><img src=x onerror=alert(1)>'
JS_URL = "javascript:alert(document.cookie)"
DATA_URL = "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="
NUL = "Acme\x00Robotics"
TOO_LONG = "x" * 5001


# --- Valid posts, which each case spoils in one place ------------------------------------------
def account_post(w: World, **overrides) -> dict:
    data = {
        "name": "Acme Robotics",
        "vitally_account_id": "",
        "crm_url": "https://crm.example.com/acme",
        "implementation_engineer": str(w.ie.pk),
        "technical_advisor": str(w.ta.pk),
        "manager": str(w.manager.pk),
        "planned_completion_date": "2026-06-30",
        "version": str(w.acme.version),
    }
    return {**data, **overrides}


def new_account_post(w: World, **overrides) -> dict:
    return account_post(
        w, **{"name": "Brand New Co", "version": "", "submission": form_token(), **overrides}
    )


def prod_post(w: World, **overrides) -> dict:
    return production_post(version=str(w.production.version), **overrides)


def env_post(**overrides) -> dict:
    data = production_post(kind="staging", name="Load test", version="")
    data.update(overrides)
    return data


def host_post(w: World | None = None, **row) -> dict:
    base = {
        "kind": "github_com",
        "display_name": "github.com/acme",
        "url": "https://github.com/acme",
        "repository_count": "10",
        "monorepo_count": "0",
        "largest_repository_mb": "100",
    }
    return code_host_post([{**base, **row}])


def entry_post(**overrides) -> dict:
    data = {"title": "Upper limits", "category": "general", "kind": "info", "body": "1,200 users"}
    data["submission"] = form_token()
    return {**data, **overrides}


def issue_post(w: World, **overrides) -> dict:
    data = {"title": "Indexing stalls", "severity": "high", "owner": str(w.ie.pk)}
    data["submission"] = form_token()
    return {**data, **overrides}


def risk_post(w: World, **overrides) -> dict:
    data = {
        "title": "Licence renewal",
        "category": "other",
        "description": "Because the licence expires, search may stop.",
        "likelihood": "2",
        "impact": "3",
        "response_strategy": "mitigate",
        "owner": str(w.ie.pk),
        "submission": form_token(),
    }
    return {**data, **overrides}


def opportunity_post(w: World, **overrides) -> dict:
    data = {"title": "APAC rollout", "opportunity_type": "user", "owner": str(w.ie.pk)}
    data["submission"] = form_token()
    return {**data, **overrides}


def item_post(w: World, **overrides) -> dict:
    prefix = f"item-{w.item.position}"
    data = {"status": "done", "not_applicable_reason": "", "evidence_url": "", "evidence_note": ""}
    data.update(overrides)
    return {f"{prefix}-{k}": v for k, v in data.items()} | {
        f"{prefix}-version": str(w.item.version)
    }


# --- URLs -------------------------------------------------------------------------------------
def u(name: str, *args: Callable[[World], Any]) -> Callable[[World], str]:
    return lambda w: reverse(name, args=[a(w) for a in args])


ACME = lambda w: w.acme.pk  # noqa: E731
UMBRELLA = lambda w: w.umbrella.pk  # noqa: E731
INITECH = lambda w: w.initech.pk  # noqa: E731


def attr(name: str) -> Callable[[World], int]:
    return lambda w: getattr(w, name).pk


# --- The table --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    id: str
    as_: str
    url: Callable[[World], str]
    data: Callable[[World], dict] = lambda w: {}
    # ("field", name): 200 with a message beside that field; ("text", words): the page (after
    # any redirect) says so; an int: that status.
    expect: tuple[str, str] | int = 403
    # Send the same request once first and let it succeed: the case is the second one.
    prime: bool = False
    csrf: str = ""  # "missing" or "wrong"
    htmx: bool = False
    extra: dict = field(default_factory=dict)


def F(name: str) -> tuple[str, str]:  # noqa: N802
    return ("field", name)


def T(words: str) -> tuple[str, str]:  # noqa: N802
    return ("text", words)


CONFLICT = T("while you were editing")
ONCE = "one-time-token-from-the-rendered-form"
ALREADY = T("This form was already submitted and saved once")

CASES = [
    # Accounts: create and edit.
    Case("account-create-blank-name", "ie", u("accounts:create"),
         lambda w: new_account_post(w, name="   "), F("name")),
    Case("account-create-js-crm-url", "ie", u("accounts:create"),
         lambda w: new_account_post(w, crm_url=JS_URL), F("crm_url")),
    Case("account-create-data-crm-url", "ie", u("accounts:create"),
         lambda w: new_account_post(w, crm_url=DATA_URL), F("crm_url")),
    Case("account-create-overlong-name", "ie", u("accounts:create"),
         lambda w: new_account_post(w, name="A" * 201), F("name")),
    Case("account-create-nul-byte", "ie", u("accounts:create"),
         lambda w: new_account_post(w, name=NUL), F("name")),
    Case("account-create-duplicate-name", "ie", u("accounts:create"),
         lambda w: new_account_post(w, name="Globex"), F("name")),
    Case("account-create-as-ta", "ta", u("accounts:create"), new_account_post, 403),
    Case("account-edit-bad-date", "ie", u("accounts:edit", ACME),
         lambda w: account_post(w, planned_completion_date="2026-13-45"),
         F("planned_completion_date")),
    Case("account-edit-ta-as-ie", "ie", u("accounts:edit", ACME),
         lambda w: account_post(w, implementation_engineer=str(w.ta.pk)),
         F("implementation_engineer")),
    Case("account-edit-unknown-person", "ie", u("accounts:edit", ACME),
         lambda w: account_post(w, manager="99999999"), F("manager")),
    Case("account-edit-non-numeric-person", "ie", u("accounts:edit", ACME),
         lambda w: account_post(w, manager="maya"), F("manager")),
    Case("account-edit-by-another-ie", "other_ie", u("accounts:edit", ACME), account_post, 403),
    Case("account-edit-by-ta", "ta", u("accounts:edit", ACME), account_post, 403),
    Case("account-edit-handed-off-as-ie", "ie", u("accounts:edit", INITECH),
         lambda w: account_post(w, name="Initech", version=str(w.initech.version)), 403),
    Case("account-edit-double-submit", "ie", u("accounts:edit", ACME),
         lambda w: account_post(w, name="Acme Robotics Inc"), CONFLICT, prime=True),
    Case("account-edit-stale-version", "ie", u("accounts:edit", ACME),
         lambda w: account_post(w, version="0"), T("version is not valid")),
    Case("account-unknown-id", "ie", lambda w: reverse("accounts:edit", args=[99999999]),
         account_post, 404),
    # Production environment.
    Case("production-js-instance-url", "ie", u("deployments:production_edit", ACME),
         lambda w: prod_post(w, sourcegraph_instance_url=JS_URL), F("sourcegraph_instance_url")),
    Case("production-negative-cpu", "ie", u("deployments:production_edit", ACME),
         lambda w: prod_post(w, total_cpu="-5"), F("total_cpu")),
    Case("production-huge-cpu", "ie", u("deployments:production_edit", ACME),
         lambda w: prod_post(w, total_cpu="1" + "0" * 30), F("total_cpu")),
    Case("production-non-numeric-memory", "ie", u("deployments:production_edit", ACME),
         lambda w: prod_post(w, total_memory_gb="lots"), F("total_memory_gb")),
    Case("production-reversed-dates", "ie", u("deployments:production_edit", ACME),
         lambda w: prod_post(w, infra_start_date="2026-05-01", infra_completion_date="2026-01-01"),
         F("infra_completion_date")),
    Case("production-forged-deployment-type", "ie", u("deployments:production_edit", ACME),
         lambda w: prod_post(w, deployment_type="bare_metal_forged"), F("deployment_type")),
    Case("production-nul-special-details", "ie", u("deployments:production_edit", ACME),
         lambda w: prod_post(w, special_details="a\x00b"), F("special_details")),
    Case("production-as-ta", "ta", u("deployments:production_edit", ACME), prod_post, 403),
    Case("production-other-account", "ie", lambda w: reverse(
        "deployments:production_edit", args=[w.globex.pk]), prod_post, 403),
    Case("production-handed-off-as-ie", "ie", u("deployments:production_edit", INITECH),
         prod_post, 403),
    Case("production-double-submit", "ie", u("deployments:production_edit", ACME),
         lambda w: prod_post(w, total_cpu="64"), CONFLICT, prime=True),
    # Design documents and instance rows.
    Case("document-js-url", "ie", u("deployments:production_edit", ACME),
         lambda w: prod_post(w, **{"documents-0-url": JS_URL}), F("documents-0-url")),
    Case("document-data-url", "ie", u("deployments:production_edit", ACME),
         lambda w: prod_post(w, **{"documents-0-url": DATA_URL}), F("documents-0-url")),
    Case("document-overlong-title", "ie", u("deployments:production_edit", ACME),
         lambda w: prod_post(w, **{"documents-0-title": "t" * 201}), F("documents-0-title")),
    Case("documents-too-many-rows", "ie", u("deployments:production_edit", ACME),
         lambda w: prod_post(w, **{"documents-TOTAL_FORMS": "5000"}),
         T("Please submit at most 20 forms")),
    Case("instance-zero-count", "ie", u("deployments:production_edit", ACME),
         lambda w: prod_post(w, **{"instances-0-count": "0"}), F("instances-0-count")),
    Case("instance-negative-count", "ie", u("deployments:production_edit", ACME),
         lambda w: prod_post(w, **{"instances-0-count": "-3"}), F("instances-0-count")),
    Case("instance-non-numeric-count", "ie", u("deployments:production_edit", ACME),
         lambda w: prod_post(w, **{"instances-0-count": "three"}), F("instances-0-count")),
    Case("instance-overlong-type", "ie", u("deployments:production_edit", ACME),
         lambda w: prod_post(w, **{"instances-0-instance_type": "m" * 101}),
         F("instances-0-instance_type")),
    # Other environments.
    Case("environment-no-kind", "ie", u("deployments:environment_create", ACME),
         lambda w: env_post(kind=""), F("kind")),
    Case("environment-forged-production-kind", "ie", u("deployments:environment_create", ACME),
         lambda w: env_post(kind="production"), F("kind")),
    Case("environment-other-kind-without-name", "ie", u("deployments:environment_create", ACME),
         lambda w: env_post(kind="other", name=""), F("name")),
    Case("environment-edit-forged-id", "ie",
         u("deployments:environment_edit", ACME, attr("their_environment")),
         lambda w: env_post(version=str(w.their_environment.version)), 404),
    Case("environment-delete-forged-id", "ie",
         u("deployments:environment_delete", ACME, attr("their_environment")),
         lambda w: {"version": str(w.their_environment.version)}, 404),
    Case("environment-delete-as-ta", "ta",
         u("deployments:environment_delete", ACME, attr("staging")),
         lambda w: {"version": str(w.staging.version)}, 403),
    # Code hosts.
    Case("code-host-js-url", "ie", u("deployments:code_hosts_edit", ACME),
         lambda w: host_post(url=JS_URL), F("codehosts-0-url")),
    Case("code-host-negative-repos", "ie", u("deployments:code_hosts_edit", ACME),
         lambda w: host_post(repository_count="-1"), F("codehosts-0-repository_count")),
    Case("code-host-non-numeric-repos", "ie", u("deployments:code_hosts_edit", ACME),
         lambda w: host_post(repository_count="many"), F("codehosts-0-repository_count")),
    Case("code-host-huge-size", "ie", u("deployments:code_hosts_edit", ACME),
         lambda w: host_post(largest_repository_mb="9" * 20),
         F("codehosts-0-largest_repository_mb")),
    Case("code-host-forged-kind", "ie", u("deployments:code_hosts_edit", ACME),
         lambda w: host_post(kind="svn_forged"), F("codehosts-0-kind")),
    Case("code-host-forged-id", "ie", u("deployments:code_hosts_edit", ACME),
         lambda w: host_post(id=str(w.their_code_host.pk), version="1",
                             display_name="Stolen"), T("Nothing was saved")),
    Case("code-host-forged-id-removal", "ie", u("deployments:code_hosts_edit", ACME),
         lambda w: host_post(id=str(w.their_code_host.pk), version="1", removed="True"),
         T("Nothing was saved")),
    Case("code-hosts-as-ta", "ta", u("deployments:code_hosts_edit", ACME), host_post, 403),
    # Implementation notes.
    Case("journal-blank-title", "ie", u("logs:journal_create", ACME),
         lambda w: entry_post(title=""), F("title")),
    Case("journal-js-reference", "ie", u("logs:journal_create", ACME),
         lambda w: entry_post(reference_url=JS_URL), F("reference_url")),
    Case("journal-data-reference", "ie", u("logs:journal_create", ACME),
         lambda w: entry_post(reference_url=DATA_URL), F("reference_url")),
    Case("journal-nul-title", "ie", u("logs:journal_create", ACME),
         lambda w: entry_post(title=NUL), F("title")),
    Case("journal-overlong-title", "ie", u("logs:journal_create", ACME),
         lambda w: entry_post(title="t" * 201), F("title")),
    Case("journal-forged-category", "ie", u("logs:journal_create", ACME),
         lambda w: entry_post(category="secret"), F("category")),
    Case("journal-edit-forged-id", "ie", u("logs:journal_edit", ACME, attr("their_entry")),
         lambda w: entry_post(version="1"), 404),
    Case("journal-edit-by-ta", "ta", u("logs:journal_edit", ACME, attr("entry")),
         lambda w: entry_post(version="1"), 403),
    # Issues, their status and resolution, their updates.
    Case("issue-blank-title", "ie", u("logs:issue_create", ACME),
         lambda w: issue_post(w, title=""), F("title")),
    Case("issue-data-ticket-url", "ie", u("logs:issue_create", ACME),
         lambda w: issue_post(w, external_ticket_url=DATA_URL), F("external_ticket_url")),
    Case("issue-unknown-owner", "ie", u("logs:issue_create", ACME),
         lambda w: issue_post(w, owner="99999999"), F("owner")),
    # A bidi override makes "gpj.exe" read "exe.jpg" (tests/security/test_control_characters.py).
    Case("issue-rtl-override-title", "ie", u("logs:issue_create", ACME),
         lambda w: issue_post(w, title="Invoice \u202egpj.exe"), F("title")),
    Case("account-create-crlf-name", "ie", u("accounts:create"),
         lambda w: new_account_post(w, name="Acme\r\nRobotics"), F("name")),
    Case("issue-forged-severity", "ie", u("logs:issue_create", ACME),
         lambda w: issue_post(w, severity="apocalyptic"), F("severity")),
    Case("issue-bad-target-date", "ie", u("logs:issue_create", ACME),
         lambda w: issue_post(w, target_date="yesterday"), F("target_date")),
    Case("issue-create-as-ta", "ta", u("logs:issue_create", ACME), issue_post, 403),
    Case("issue-create-handed-off-as-ie", "ie", u("logs:issue_create", INITECH), issue_post, 403),
    Case("issue-resolve-without-resolution", "ie", u("logs:issue_status", ACME, attr("issue")),
         lambda w: {"status": "resolved", "resolution": ""}, F("resolution")),
    Case("issue-forged-status", "ie", u("logs:issue_status", ACME, attr("issue")),
         lambda w: {"status": "deleted"}, T("Choose one of the statuses")),
    Case("issue-status-forged-id", "ie", u("logs:issue_status", ACME, attr("their_issue")),
         lambda w: {"status": "closed", "resolution": "Done."}, 404),
    Case("issue-edit-forged-id", "ie", u("logs:issue_edit", ACME, attr("their_issue")),
         lambda w: issue_post(w, version="1"), 404),
    Case("issue-edit-double-submit", "ie", u("logs:issue_edit", ACME, attr("issue")),
         lambda w: issue_post(w, title="Slow search (again)", status="open", version="1"),
         CONFLICT, prime=True),
    Case("issue-update-blank", "ie", u("logs:issue_note_add", ACME, attr("issue")),
         lambda w: {"body": "  "}, F("body")),
    Case("issue-update-overlong", "ie", u("logs:issue_note_add", ACME, attr("issue")),
         lambda w: {"body": TOO_LONG}, F("body")),
    Case("issue-update-forged-id", "ie", u("logs:issue_note_add", ACME, attr("their_issue")),
         lambda w: {"body": "Mine now"}, 404),
    # Risks, incl. "It happened".
    Case("risk-zero-likelihood", "ie", u("logs:risk_create", ACME),
         lambda w: risk_post(w, likelihood="0"), F("likelihood")),
    Case("risk-huge-impact", "ie", u("logs:risk_create", ACME),
         lambda w: risk_post(w, impact="99"), F("impact")),
    Case("risk-non-numeric-likelihood", "ie", u("logs:risk_create", ACME),
         lambda w: risk_post(w, likelihood="high"), F("likelihood")),
    Case("risk-impossible-review-date", "ie", u("logs:risk_create", ACME),
         lambda w: risk_post(w, next_review_date="2026-02-30"), F("next_review_date")),
    Case("risk-forged-occurred-status", "ie", u("logs:risk_status", ACME, attr("risk")),
         lambda w: {"status": "occurred"}, T("Choose one of the statuses")),
    Case("risk-occurred-forged-id", "ie", u("logs:risk_occurred", ACME, attr("their_risk")),
         lambda w: {}, 404),
    Case("risk-occurred-as-ta", "ta", u("logs:risk_occurred", ACME, attr("risk")),
         lambda w: {}, 403),
    Case("risk-occurred-double-submit", "ie", u("logs:risk_occurred", ACME, attr("risk")),
         lambda w: {}, T("occurred: I-2 raised"), prime=True),
    # Expansion opportunities.
    Case("opportunity-negative-users", "ie", u("logs:opportunity_create", ACME),
         lambda w: opportunity_post(w, estimated_additional_users="-10"),
         F("estimated_additional_users")),
    Case("opportunity-huge-users", "ie", u("logs:opportunity_create", ACME),
         lambda w: opportunity_post(w, estimated_additional_users="1000000000"),
         F("estimated_additional_users")),
    Case("opportunity-forged-stage", "ie",
         u("logs:opportunity_stage", ACME, attr("opportunity")),
         lambda w: {"stage": "won_forged"}, T("Choose one of the stages")),
    Case("opportunity-edit-forged-id", "ie",
         u("logs:opportunity_edit", ACME, attr("their_opportunity")),
         lambda w: opportunity_post(w, version="1"), 404),
    # Closeout checklist items.
    Case("checklist-js-evidence", "ie", u("closeout:checklist_item", ACME, attr("item")),
         lambda w: item_post(w, evidence_url=JS_URL), F("evidence_url")),
    Case("checklist-not-applicable-without-reason", "ie",
         u("closeout:checklist_item", ACME, attr("item")),
         lambda w: item_post(w, status="not_applicable"), F("not_applicable_reason")),
    Case("checklist-forged-status", "ie", u("closeout:checklist_item", ACME, attr("item")),
         lambda w: item_post(w, status="skipped"), F("status")),
    Case("checklist-forged-id", "ie", u("closeout:checklist_item", ACME, attr("their_item")),
         lambda w: item_post(w), 404),
    Case("checklist-as-ta", "ta", u("closeout:checklist_item", ACME, attr("item")),
         item_post, 403),
    # The handoff workflow: request, acknowledge, sign-off, reopen.
    Case("request-handoff-as-ta", "ta", u("closeout:handoff_request", ACME), expect=403),
    Case("request-handoff-twice", "ie", u("closeout:handoff_request", UMBRELLA), expect=403),
    Case("request-handoff-by-get", "ie", u("closeout:handoff_request", ACME), expect=405,
         extra={"method": "get"}),
    Case("withdraw-as-ta", "ta", u("closeout:handoff_withdraw", UMBRELLA), expect=403),
    Case("acknowledge-as-ie", "ie", u("closeout:handoff_acknowledge", ACME), expect=403),
    Case("sign-off-as-ie", "ie", u("closeout:sign_off", UMBRELLA), expect=403),
    Case("sign-off-as-ta", "ta", u("closeout:sign_off", UMBRELLA), expect=403),
    Case("sign-off-before-handoff-requested", "manager", u("closeout:sign_off", ACME),
         expect=403),
    Case("sign-off-double-submit", "manager", u("closeout:sign_off", UMBRELLA),
         lambda w: {"override_reason": ""}, 403, prime=True),
    Case("sign-off-overlong-reason", "manager", u("closeout:sign_off", UMBRELLA),
         lambda w: {"override_reason": "r" * 2001}, F("override_reason")),
    Case("reopen-as-ie", "ie", u("closeout:reopen", INITECH),
         lambda w: {"reason": "Mine again"}, 403),
    Case("reopen-as-ta", "ta", u("closeout:reopen", INITECH),
         lambda w: {"reason": "Mine again"}, 403),
    Case("reopen-without-reason", "manager", u("closeout:reopen", INITECH),
         lambda w: {"reason": " "}, F("reason")),
    Case("reopen-double-submit", "manager", u("closeout:reopen", INITECH),
         lambda w: {"reason": "Missed the SSO check"}, 403, prime=True),
    # The same create form sent twice (double click, refresh): one row, then a refusal.
    Case("account-create-double-submit", "ie", u("accounts:create"), new_account_post,
         F("name"), prime=True),
    Case("environment-create-double-submit", "ie", u("deployments:environment_create", ACME),
         lambda w: env_post(submission=ONCE), ALREADY, prime=True),
    Case("journal-create-double-submit", "ie", u("logs:journal_create", ACME),
         lambda w: entry_post(submission=ONCE), ALREADY, prime=True),
    Case("issue-create-double-submit", "ie", u("logs:issue_create", ACME),
         lambda w: issue_post(w, submission=ONCE), ALREADY, prime=True),
    Case("issue-update-double-submit", "ie", u("logs:issue_note_add", ACME, attr("issue")),
         lambda w: {"body": "Restarted gitserver", "submission": ONCE}, ALREADY, prime=True),
    Case("risk-create-double-submit", "ie", u("logs:risk_create", ACME),
         lambda w: risk_post(w, submission=ONCE), ALREADY, prime=True),
    Case("opportunity-create-double-submit", "ie", u("logs:opportunity_create", ACME),
         lambda w: opportunity_post(w, submission=ONCE), ALREADY, prime=True),
    # Push now.
    Case("push-now-as-ta", "ta", u("vitally_sync:push", ACME), expect=403),
    Case("push-now-by-another-ie", "other_ie", u("vitally_sync:push", ACME), expect=403),
    # CSRF: a missing or wrong token is refused before anything runs.
    Case("csrf-missing-issue-create", "ie", u("logs:issue_create", ACME), issue_post, 403,
         csrf="missing"),
    Case("csrf-wrong-issue-create", "ie", u("logs:issue_create", ACME), issue_post, 403,
         csrf="wrong"),
    Case("csrf-wrong-account-edit", "ie", u("accounts:edit", ACME), account_post, 403,
         csrf="wrong"),
    Case("csrf-missing-sign-off", "manager", u("closeout:sign_off", UMBRELLA),
         lambda w: {"override_reason": ""}, 403, csrf="missing"),
    Case("csrf-missing-reopen", "manager", u("closeout:reopen", INITECH),
         lambda w: {"reason": "Because"}, 403, csrf="missing"),
    Case("csrf-missing-push-now", "ie", u("vitally_sync:push", ACME), expect=403,
         csrf="missing"),
    Case("csrf-wrong-request-handoff", "ie", u("closeout:handoff_request", ACME), expect=403,
         csrf="wrong"),
]  # fmt: skip


def _client_for(case: Case, user) -> Client:
    client = Client(enforce_csrf_checks=bool(case.csrf))
    client.force_login(user)
    return client


def _send(client: Client, case: Case, url: str, data: dict):
    if case.extra.get("method") == "get":
        return client.get(url)
    if case.csrf == "wrong":
        # A real CSRF cookie, and a token in the form that does not match it.
        client.get(reverse("accounts:dashboard"))
        data = {**data, "csrfmiddlewaretoken": "x" * 64}
    headers = {"HX-Request": "true"} if case.htmx else {}
    return client.post(url, data, headers=headers)


def _assert_refused(case: Case, response, client: Client) -> None:
    expect = case.expect
    if isinstance(expect, int):
        assert response.status_code == expect, response.content.decode()[:2000]
        return
    kind, what = expect
    if kind == "field":
        assert response.status_code == 200, response.status_code
        page = response.content.decode()
        assert re.search(rf'<p class="error" id="[^"]*{re.escape(what)}_error">[^<]+</p>', page), (
            f"no message beside {what}:\n" + "\n".join(re.findall(r'class="error"[^<]*<', page))
        )
        return
    if response.status_code == 302:
        response = client.get(response["Location"])
    assert response.status_code == 200, response.status_code
    assert what in response.content.decode(), f"{what!r} not on the page"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_and_changes_nothing(case: Case, world: World):
    user = world.user(case.as_)
    client = _client_for(case, user)
    url, data = case.url(world), case.data(world)
    if case.prime:
        first = client.post(url, data)
        assert first.status_code in (200, 302), first.status_code
        assert first.status_code == 302 or 'class="error"' not in first.content.decode()
    before = db_snapshot()
    response = _send(client, case, url, data)
    assert response.status_code != 500
    _assert_refused(case, response, client)
    changed = snapshot_diff(before, db_snapshot())
    assert not changed, f"{case.id} changed the database: {changed}"


def test_the_table_covers_enough_cases():
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)


# --- Stored, then shown escaped ---------------------------------------------------------------
@dataclass(frozen=True)
class Stored:
    id: str
    as_: str
    url: Callable[[World], str]
    data: Callable[[World], dict]
    page: Callable[[World], str]
    shown: str = ESCAPED_SCRIPT  # how the payload must appear on the page
    absent: str = SCRIPT  # what must never appear
    viewer: str = ""  # who reads the page, when not the writer


STORED = [
    Stored("account-name", "ie", u("accounts:edit", ACME),
           lambda w: account_post(w, name=f"Acme {SCRIPT}"), u("accounts:detail", ACME)),
    Stored("account-name-on-dashboard", "ie", u("accounts:edit", ACME),
           lambda w: account_post(w, name=f"Acme {SCRIPT}"),
           lambda w: reverse("accounts:dashboard")),
    Stored("account-name-attribute-breakout", "ie", u("accounts:edit", ACME),
           lambda w: account_post(w, name=f"Acme {IMG}"), u("accounts:detail", ACME),
           shown="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;", absent="<img src=x"),
    Stored("special-details", "ie", u("deployments:production_edit", ACME),
           lambda w: prod_post(w, special_details=SCRIPT), u("accounts:detail", ACME)),
    Stored("document-title", "ie", u("deployments:production_edit", ACME),
           lambda w: prod_post(w, **{"documents-0-title": SCRIPT}), u("accounts:detail", ACME)),
    Stored("instance-type", "ie", u("deployments:production_edit", ACME),
           lambda w: prod_post(w, **{"instances-0-instance_type": SCRIPT[:100]}),
           u("deployments:production_edit", ACME)),
    Stored("code-host-name", "ie", u("deployments:code_hosts_edit", ACME),
           lambda w: host_post(display_name=SCRIPT), u("accounts:detail", ACME)),
    Stored("journal-title", "ie", u("logs:journal_create", ACME),
           lambda w: entry_post(title=SCRIPT), u("logs:journal_list", ACME)),
    Stored("journal-body-markdown", "ie", u("logs:journal_create", ACME),
           lambda w: entry_post(title="Body test", body=f"Hello {SCRIPT} [x]({JS_URL})"),
           u("logs:journal_list", ACME), shown="Hello", absent="<script>"),
    Stored("issue-title", "ie", u("logs:issue_create", ACME),
           lambda w: issue_post(w, title=SCRIPT), u("logs:issue_list", ACME)),
    Stored("issue-title-on-overview", "ie", u("logs:issue_create", ACME),
           lambda w: issue_post(w, title=SCRIPT), lambda w: reverse("logs:issue_overview"),
           viewer="manager"),
    Stored("issue-update", "ie", u("logs:issue_note_add", ACME, attr("issue")),
           lambda w: {"body": SCRIPT, "submission": form_token()},
           u("logs:issue_detail", ACME, attr("issue"))),
    Stored("risk-title-on-heatmap", "ie", u("logs:risk_create", ACME),
           lambda w: risk_post(w, title=SCRIPT, likelihood="5", impact="5"),
           lambda w: reverse("logs:risk_heatmap"), viewer="manager"),
    Stored("opportunity-title", "ie", u("logs:opportunity_create", ACME),
           lambda w: opportunity_post(w, title=SCRIPT), u("logs:opportunity_list", ACME)),
    Stored("checklist-evidence-note", "ie", u("closeout:checklist_item", ACME, attr("item")),
           lambda w: item_post(w, evidence_note=SCRIPT), u("accounts:detail", ACME)),
    Stored("reopen-reason", "manager", u("closeout:reopen", INITECH),
           lambda w: {"reason": SCRIPT}, u("accounts:detail", INITECH)),
    Stored("rtl-text-title", "ie", u("logs:issue_create", ACME),
           lambda w: issue_post(w, title="Invoice مرحبا שלום"), u("logs:issue_list", ACME),
           shown="Invoice مرحبا שלום", absent="<script>"),
    Stored("zero-width-and-emoji", "ie", u("logs:journal_create", ACME),
           lambda w: entry_post(title="Go\u200blive 🚀 done"), u("logs:journal_list", ACME),
           shown="Go\u200blive 🚀 done", absent="<script>"),
]  # fmt: skip


@pytest.mark.parametrize("case", STORED, ids=[c.id for c in STORED])
def test_stored_payloads_are_shown_escaped(case: Stored, world: World):
    client = Client()
    client.force_login(world.user(case.as_))
    response = client.post(case.url(world), case.data(world))
    assert response.status_code == 302, re.findall(
        r'class="error"[^>]*>([^<]*)<', response.content.decode()
    )
    if case.viewer:
        client.force_login(world.user(case.viewer))
    page = client.get(case.page(world))
    assert page.status_code == 200
    html = page.content.decode()
    assert case.absent not in html
    assert SCRIPT not in html and 'href="javascript:' not in html
    assert case.shown in html
