import re

import pytest
from django.urls import reverse

from deployments.models import CodeHostConnection, DesignDocument, Environment, InstanceTypeRow
from deployments.services import environment_create, environment_update
from handoff.accounts.models import Account
from handoff.audit.models import AuditEvent
from handoff.people.models import User
from tests.factories import AccountFactory, UserFactory, form_token
from tests.query_budget import account_page_queries

pytestmark = pytest.mark.django_db


def production_url(account) -> str:
    return reverse("deployments:production_edit", args=[account.pk])


def code_hosts_url(account) -> str:
    return reverse("deployments:code_hosts_edit", args=[account.pk])


def production_post(**overrides) -> dict:
    data = {
        "version": "",
        "submission": form_token(),
        "_action": "save",
        "sourcegraph_instance_url": "https://sourcegraph.acme.example",
        "sourcegraph_version": "6.0.0",
        "infra_start_date": "2026-01-05",
        "infra_completion_date": "",
        "deployment_type": "kubernetes_helm",
        "deployment_type_other": "",
        "hosting_provider": "aws",
        "hosting_provider_other": "",
        "total_cpu": "48",
        "total_memory_gb": "192",
        "total_disk_space_gb": "1000",
        "special_details": "",
        "max_users": "3000",
        "max_concurrent_users": "600",
        "max_repositories": "20000",
        "documents-TOTAL_FORMS": "1",
        "documents-INITIAL_FORMS": "1",
        "documents-0-title": "Technical design",
        "documents-0-url": "https://docs.example.com/tdd",
        "instances-TOTAL_FORMS": "1",
        "instances-INITIAL_FORMS": "1",
        "instances-0-count": "3",
        "instances-0-instance_type": "m6a.4xlarge",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def code_host_post(rows: list[dict], **extra) -> dict:
    data = {
        "_action": "save",
        "submission": form_token(),
        "codehosts-TOTAL_FORMS": str(len(rows)),
        "codehosts-INITIAL_FORMS": "0",
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"codehosts-{i}-{key}"] = value
    data.update(extra)
    return data


EMPTY_ROWS = {
    "documents-TOTAL_FORMS": "0",
    "documents-INITIAL_FORMS": "0",
    "instances-TOTAL_FORMS": "0",
    "instances-INITIAL_FORMS": "0",
}
GITHUB = {
    "kind": "github_com",
    "display_name": "github.com/acme",
    "url": "https://github.com/acme",
    "repository_count": "1200",
    "monorepo_count": "1",
    "largest_repository_mb": "4096",
}
GITLAB = {
    "kind": "gitlab_self_managed",
    "display_name": "GitLab",
    "url": "https://gitlab.acme.example",
    "repository_count": "300",
    "monorepo_count": "0",
    "largest_repository_mb": "900",
}


def database_state(account):
    """Everything the deployment forms could write, to prove a refused save wrote nothing."""
    return (
        list(Environment.objects.filter(account=account).values()),
        list(DesignDocument.objects.values("title", "url", "position")),
        list(InstanceTypeRow.objects.values("count", "instance_type", "position")),
        list(CodeHostConnection.objects.values()),
        AuditEvent.objects.count(),
        Account.objects.get(pk=account.pk).change_version,
    )


# --- Recording the production deployment -----------------------------------------------------


def test_ie_records_the_production_deployment_and_sees_it_with_history(client_for, account, ie):
    client = client_for(ie)
    response = client.post(production_url(account), production_post())
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:detail", args=[account.pk]) + (
        "#production-deployment"
    )
    environment = Environment.objects.get(account=account)
    assert environment.is_production
    assert environment.total_cpu == 48
    assert [(r.count, r.instance_type) for r in environment.instance_types.all()] == [
        (3, "m6a.4xlarge")
    ]
    page = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert "Kubernetes with Helm" in page
    assert "3 × m6a.4xlarge" in page
    assert "instance types imply 48" in page
    assert "Start date of implementation of production infrastructure" in page
    history = client.get(reverse("accounts:history", args=[account.pk])).content.decode()
    assert "created Production environment" in history
    assert "Total CPU" in history


def test_blank_rows_are_skipped_not_refused(client_for, account, ie):
    data = production_post(
        **{
            "documents-TOTAL_FORMS": "2",
            "documents-1-title": "",
            "documents-1-url": "",
            "instances-TOTAL_FORMS": "2",
            "instances-1-count": "1",
            "instances-1-instance_type": "",
        }
    )
    response = client_for(ie).post(production_url(account), data)
    assert response.status_code == 302
    assert DesignDocument.objects.count() == 1
    assert InstanceTypeRow.objects.count() == 1


# field, value, message (the other fields valid): the message is shown beside the field and
# nothing is written.
BAD_PRODUCTION_INPUT = [
    ("total_cpu", "-1", "greater than or equal to 1"),
    ("total_cpu", "0", "greater than or equal to 1"),
    ("total_cpu", "10001", "less than or equal to 10000"),
    ("total_cpu", "sixteen", "Enter a whole number."),
    ("total_cpu", "1.5", "Enter a whole number."),
    ("total_memory_gb", "0", "greater than or equal to 1"),
    ("total_memory_gb", "100001", "less than or equal to 100000"),
    ("total_memory_gb", "64GB", "Enter a whole number."),
    ("total_disk_space_gb", "-500", "greater than or equal to 1"),
    ("total_disk_space_gb", "99999999999999999999", "less than or equal to 1000000"),
    ("max_users", "0", "greater than or equal to 1"),
    ("max_users", "1000001", "less than or equal to 1000000"),
    ("max_concurrent_users", "3001", "cannot exceed the users limit"),
    ("max_repositories", "-1", "greater than or equal to 1"),
    ("max_repositories", "10000001", "less than or equal to 10000000"),
    ("infra_start_date", "2026-13-45", "Enter a valid date."),
    ("infra_completion_date", "2025-12-31", "cannot be before the start date"),
    ("sourcegraph_instance_url", "javascript:alert(1)", "starts with http:// or https://"),
    ("sourcegraph_instance_url", "data:text/html,hi", "starts with http:// or https://"),
    ("sourcegraph_instance_url", "http://", "Enter a valid link"),
    ("sourcegraph_instance_url", "https://exa mple.com", "Enter a valid link"),
    ("sourcegraph_instance_url", "https://x.example/" + "a" * 500, "at most 500 characters"),
    ("sourcegraph_version", "latest!", "Enter a Sourcegraph version"),
    ("sourcegraph_version", "6." + "1" * 49, "at most 50 characters"),
    ("deployment_type", "", "This field is required."),
    ("deployment_type", "helm3", "Select a valid choice."),
    ("hosting_provider", "", "This field is required."),
    ("hosting_provider", "mars", "Select a valid choice."),
    ("special_details", "x" * 5001, "at most 5000 characters"),
    ("documents-0-url", "javascript:alert(document.cookie)", "starts with http:// or https://"),
    ("documents-0-url", "not a link", "Enter a valid link"),
    ("documents-0-title", "", "This field is required."),
    ("documents-0-title", "t" * 201, "at most 200 characters"),
    ("instances-0-count", "0", "greater than or equal to 1"),
    ("instances-0-count", "-3", "greater than or equal to 1"),
    ("instances-0-count", "1001", "less than or equal to 1000"),
    ("instances-0-count", "three", "Enter a whole number."),
    ("instances-0-instance_type", "", "This field is required."),
    ("instances-0-instance_type", "m" * 101, "at most 100 characters"),
]


@pytest.mark.parametrize("field, value, message", BAD_PRODUCTION_INPUT)
def test_bad_production_input_is_shown_beside_the_field_and_nothing_changes(
    client_for, account, ie, field, value, message
):
    client = client_for(ie)
    client.post(production_url(account), production_post())  # an existing record to protect
    environment = Environment.objects.get()
    before = database_state(account)

    response = client.post(
        production_url(account), production_post(version=str(environment.version), **{field: value})
    )

    assert response.status_code == 200
    page = response.content.decode()
    match = re.search(rf'<p class="error" id="id_{re.escape(field)}_error">([^<]*)</p>', page)
    assert match, f"no error beside {field}"
    assert message in match.group(1).replace("&#x27;", "'")
    assert database_state(account) == before


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"deployment_type": "other"}, "deployment_type_other", "Describe the deployment type."),
        ({"hosting_provider": "other"}, "hosting_provider_other", "Name the hosting provider."),
        (
            {"deployment_type": "other", "deployment_type_other": "d" * 201},
            "deployment_type_other",
            "at most 200 characters",
        ),
    ],
)
def test_other_needs_a_description(client_for, account, ie, overrides, field, message):
    response = client_for(ie).post(production_url(account), production_post(**overrides))
    assert response.status_code == 200
    assert any(message in e for e in response.context["form"].errors[field])
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not Environment.objects.exists()


def test_every_bad_field_is_reported_at_once(client_for, account, ie):
    response = client_for(ie).post(
        production_url(account),
        production_post(
            total_cpu="-1", **{"documents-0-url": "javascript:x", "instances-0-count": "0"}
        ),
    )
    page = response.content.decode()
    for field in ("total_cpu", "documents-0-url", "instances-0-count"):
        assert f'id="id_{field}_error"' in page
    assert not Environment.objects.exists()


# --- Optimistic concurrency --------------------------------------------------------------------


def test_stale_environment_form_is_refused_with_current_values_and_nothing_overwritten(
    client_for, account, ie, manager
):
    client = client_for(ie)
    client.post(production_url(account), production_post())
    environment = Environment.objects.get()
    environment_update(
        environment=environment, actor=manager, data={"total_cpu": 96}, expected_version=1
    )

    response = client.post(
        production_url(account),
        production_post(version="1", total_cpu="12", **{"instances-0-count": "9"}),
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "while you were editing" in page
    conflict = page[page.index('class="conflict"') : page.index("</section>")]
    assert 'Keep theirs: <span class="conflict-value">96</span>' in conflict  # theirs, shown
    assert 'Theirs: <span class="conflict-value">3 × m6a.4xlarge' in conflict
    assert 'name="total_cpu" value="12"' in page  # what this person typed is kept
    assert 'name="instances-0-count" value="9"' in page
    assert 'name="version" value="2"' in page  # saving again is a deliberate overwrite
    environment.refresh_from_db()
    assert environment.total_cpu == 96
    assert list(InstanceTypeRow.objects.values_list("count", flat=True)) == [3]


def test_production_recorded_meanwhile_is_not_overwritten_by_a_new_form(
    client_for, account, ie, manager
):
    client_for(manager).post(production_url(account), production_post(total_cpu="64"))
    # Irene opened the empty form before Maya saved: her form carries no version.
    response = client_for(ie).post(production_url(account), production_post(total_cpu="8"))
    assert response.status_code == 200
    assert "while you were editing" in response.content.decode()
    assert Environment.objects.get().total_cpu == 64


def test_stale_code_hosts_form_is_refused_and_nothing_overwritten(client_for, account, ie, manager):
    client_for(ie).post(code_hosts_url(account), code_host_post([GITHUB]))
    host = CodeHostConnection.objects.get()
    saved_row = {**GITHUB, "id": str(host.pk), "version": "1"}
    client_for(manager).post(
        code_hosts_url(account), code_host_post([{**saved_row, "repository_count": "1500"}])
    )

    response = client_for(ie).post(
        code_hosts_url(account),
        code_host_post([{**saved_row, "repository_count": "7"}, GITLAB]),
    )

    assert response.status_code == 200
    page = response.content.decode()
    # The one conflict panel: their count beside yours, a choice; nothing saved yet.
    conflict = page[page.index('class="conflict"') : page.index("</section>")]
    assert "while you were editing. 1 field differs" in conflict
    assert 'Keep theirs: <span class="conflict-value">1500</span>' in conflict
    assert 'name="codehosts-0-repository_count" value="7"' in page
    assert 'name="codehosts-0-version" value="2"' in page
    assert list(CodeHostConnection.objects.values_list("repository_count", flat=True)) == [1500]


# --- Inline rows with htmx ---------------------------------------------------------------------


def test_adding_a_row_keeps_everything_typed_and_saves_nothing(client_for, account, ie):
    data = production_post(
        _action="add:documents",
        total_cpu="not yet a number",
        sourcegraph_version="6.0.0",
        rockskip_enabled="on",
    )
    response = client_for(ie).post(production_url(account), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" not in page  # htmx gets the form only
    assert page.lstrip().startswith('<form id="environment-form"')
    assert 'name="documents-TOTAL_FORMS" value="2"' in page
    assert 'name="documents-0-title" value="Technical design"' in page
    assert 'name="documents-1-title"' in page and "autofocus" in page
    assert 'name="total_cpu" value="not yet a number"' in page  # kept, not judged yet
    assert 'name="rockskip_enabled" id="id_rockskip_enabled" checked' in page
    assert 'class="error"' not in page
    assert not Environment.objects.exists()


def test_removing_a_row_keeps_the_others_as_typed(client_for, account, ie):
    data = production_post(
        _action="remove:instances:0",
        **{
            "instances-TOTAL_FORMS": "2",
            "instances-1-count": "2",
            "instances-1-instance_type": "m6a.2xlarge",
        },
    )
    page = (
        client_for(ie).post(production_url(account), data, HTTP_HX_REQUEST="true").content.decode()
    )
    assert 'name="instances-TOTAL_FORMS" value="1"' in page
    assert 'name="instances-0-count" value="2"' in page
    assert 'name="instances-0-instance_type" value="m6a.2xlarge"' in page
    assert (
        "m6a.4xlarge" not in page.split('id="instance-check"')[0].split("instances-TOTAL_FORMS")[1]
    )


def test_without_javascript_the_same_buttons_reload_the_page(client_for, account, ie):
    response = client_for(ie).post(
        production_url(account), production_post(_action="add:instances")
    )
    page = response.content.decode()
    assert "<html" in page
    assert 'name="instances-TOTAL_FORMS" value="2"' in page


def test_removing_a_saved_code_host_marks_it_until_save(client_for, account, ie):
    client = client_for(ie)
    client.post(code_hosts_url(account), code_host_post([GITHUB, GITLAB]))
    hosts = list(CodeHostConnection.objects.order_by("position"))
    rows = [
        {**GITHUB, "id": str(hosts[0].pk), "version": "1"},
        {**GITLAB, "id": str(hosts[1].pk), "version": "1", "display_name": "GitLab (renamed)"},
    ]
    page = client.post(
        code_hosts_url(account),
        code_host_post(rows, _action="remove:codehosts:0"),
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "“github.com/acme” will be removed when you save." in page
    assert 'name="codehosts-0-removed" value="True"' in page
    assert 'value="GitLab (renamed)"' in page
    assert CodeHostConnection.objects.count() == 2  # nothing happens until Save

    undo = client.post(
        code_hosts_url(account),
        code_host_post([{**rows[0], "removed": "True"}, rows[1]], _action="restore:codehosts:0"),
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "will be removed" not in undo

    response = client.post(
        code_hosts_url(account),
        code_host_post([{**rows[0], "removed": "True", "repository_count": ""}, rows[1]]),
    )
    assert response.status_code == 302
    assert list(CodeHostConnection.objects.values_list("display_name", flat=True)) == [
        "GitLab (renamed)"
    ]
    assert AuditEvent.objects.filter(
        action="delete", object_repr="code host github.com/acme"
    ).exists()


def test_removing_a_new_code_host_row_drops_it(client_for, account, ie):
    page = (
        client_for(ie)
        .post(
            code_hosts_url(account),
            code_host_post([GITHUB, GITLAB], _action="remove:codehosts:0"),
            HTTP_HX_REQUEST="true",
        )
        .content.decode()
    )
    assert 'name="codehosts-TOTAL_FORMS" value="1"' in page
    assert 'value="GitLab"' in page
    assert "github.com/acme" not in page


def test_instance_check_endpoint_warns_about_odd_names(client_for, account, ie):
    response = client_for(ie).post(
        reverse("deployments:instance_check", args=[account.pk]),
        {
            "hosting_provider": "aws",
            "total_cpu": "40",
            "instances-TOTAL_FORMS": "2",
            "instances-0-count": "2",
            "instances-0-instance_type": "m6a.4xlarge",
            "instances-1-count": "1",
            "instances-1-instance_type": "n2-standard-16",
        },
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert "Row 2: “n2-standard-16” looks like a Google Cloud machine type" in page
    assert "<strong>48 vCPU</strong>" in page


# --- Code hosts -----------------------------------------------------------------------------


def test_code_hosts_totals_on_the_account_page(client_for, account, ie):
    client = client_for(ie)
    response = client.post(code_hosts_url(account), code_host_post([GITHUB, GITLAB]))
    assert response.status_code == 302
    page = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    totals = page[page.index('aria-label="Code host totals"') :]
    assert "<dt>Code Hosts in Use</dt><dd>GitHub.com, GitLab Self-Managed</dd>" in totals
    assert "<dt>Number of Repositories</dt><dd>1,500</dd>" in totals
    assert "<dt>Number of Monorepos</dt><dd>1</dd>" in totals
    assert "<dt>Largest Repository (MB)</dt><dd>4,096" in totals


BAD_CODE_HOST_INPUT = [
    ("kind", "", "This field is required."),
    ("kind", "svn", "Select a valid choice."),
    ("repository_count", "-1", "greater than or equal to 0"),
    ("repository_count", "lots", "Enter a whole number."),
    ("repository_count", "10000001", "less than or equal to 10000000"),
    ("repository_count", "", "This field is required."),
    ("monorepo_count", "1201", "more monorepos than repositories"),
    ("monorepo_count", "-2", "greater than or equal to 0"),
    ("largest_repository_mb", "0", "greater than or equal to 1"),
    ("largest_repository_mb", "10000001", "less than or equal to 10000000"),
    ("largest_repository_mb", "4 GB", "Enter a whole number."),
    ("url", "javascript:alert(1)", "starts with http:// or https://"),
    ("url", "https://", "Enter a valid link"),
    ("display_name", "n" * 201, "at most 200 characters"),
]


@pytest.mark.parametrize("field, value, message", BAD_CODE_HOST_INPUT)
def test_bad_code_host_input_is_shown_beside_the_field_and_nothing_changes(
    client_for, account, ie, field, value, message
):
    client = client_for(ie)
    client.post(code_hosts_url(account), code_host_post([GITLAB]))
    before = database_state(account)
    response = client.post(code_hosts_url(account), code_host_post([{**GITHUB, field: value}]))
    assert response.status_code == 200
    page = response.content.decode()
    key = f"codehosts-0-{field}"
    error = re.search(rf'id="id_{key}_error">([^<]*)<', page)
    assert error and message in error.group(1).replace("&#x27;", "'")
    assert database_state(account) == before


# --- Other environments ------------------------------------------------------------------------


def test_stale_remove_is_refused(client_for, account, ie, manager):
    staging = environment_create(account=account, actor=ie, kind="staging", data={})
    environment_update(
        environment=staging, actor=manager, data={"total_cpu": 8}, expected_version=1
    )
    remove = reverse("deployments:environment_delete", args=[account.pk, staging.pk])
    response = client_for(ie).post(remove, {"version": "1"}, follow=True)
    assert "changed by someone else meanwhile; nothing was removed" in response.content.decode()
    assert Environment.objects.filter(pk=staging.pk).exists()


def test_other_environment_create_edit_and_remove(client_for, account, ie):
    client = client_for(ie)
    url = reverse("deployments:environment_create", args=[account.pk])
    form = client.get(url).content.decode()
    assert 'value="production"' not in form  # production is recorded on its own page
    response = client.post(
        url,
        {
            "_action": "save",
            "kind": "staging",
            "name": "EU",
            "total_cpu": "8",
            "submission": form_token(),
            **EMPTY_ROWS,
        },
    )
    assert response.status_code == 302
    staging = Environment.objects.get(kind="staging")
    edit = reverse("deployments:environment_edit", args=[account.pk, staging.pk])
    assert "Start date of implementation of infrastructure" in client.get(edit).content.decode()
    remove = reverse("deployments:environment_delete", args=[account.pk, staging.pk])
    assert "Remove the staging environment “EU”?" in client.get(remove).content.decode()
    assert client.post(remove, {"version": staging.version}).status_code == 302
    assert not Environment.objects.filter(kind="staging").exists()


def test_other_kind_needs_a_name(client_for, account, ie):
    response = client_for(ie).post(
        reverse("deployments:environment_create", args=[account.pk]),
        {"_action": "save", "kind": "other", **EMPTY_ROWS},
    )
    assert 'id="id_name_error"' in response.content.decode()
    assert not Environment.objects.exists()


def test_environment_of_another_account_is_404(client_for, account, ie, manager):
    other = AccountFactory(implementation_engineer=ie)
    foreign = environment_create(
        account=other, actor=manager, kind="staging", data={"total_cpu": 4}
    )
    client = client_for(ie)
    for name in ("environment_edit", "environment_delete"):
        url = reverse(f"deployments:{name}", args=[account.pk, foreign.pk])
        assert client.get(url).status_code == 404
        assert client.post(url, {"_action": "save", "kind": "dev"}).status_code == 404
    foreign.refresh_from_db()
    assert foreign.total_cpu == 4


def test_code_host_id_of_another_account_is_not_touched(client_for, account, ie, manager):
    other = AccountFactory(implementation_engineer=ie)
    client_for(ie).post(code_hosts_url(other), code_host_post([GITHUB]))
    foreign = CodeHostConnection.objects.get()
    response = client_for(ie).post(
        code_hosts_url(account),
        code_host_post([{**GITHUB, "id": str(foreign.pk), "version": "1", "removed": "True"}]),
    )
    assert response.status_code == 200
    assert CodeHostConnection.objects.filter(pk=foreign.pk, account=other).exists()


def test_production_cannot_be_removed(client_for, account, ie):
    client_for(ie).post(production_url(account), production_post())
    production = Environment.objects.get()
    url = reverse("deployments:environment_delete", args=[account.pk, production.pk])
    assert client_for(ie).post(url).status_code == 404
    assert Environment.objects.filter(pk=production.pk).exists()


# --- Permissions -------------------------------------------------------------------------------

EDIT = [
    ("ie", True, Account.Phase.IMPLEMENTATION, True),
    ("ie", True, Account.Phase.READY_FOR_HANDOFF, True),
    ("ie", True, Account.Phase.HANDED_OFF, False),
    ("ie", False, Account.Phase.IMPLEMENTATION, False),
    ("ta", True, Account.Phase.IMPLEMENTATION, False),
    ("ta", True, Account.Phase.HANDED_OFF, True),
    ("ta", False, Account.Phase.HANDED_OFF, False),
    ("manager", False, Account.Phase.IMPLEMENTATION, True),
    ("staff", False, Account.Phase.HANDED_OFF, True),
]


@pytest.mark.parametrize("role, assigned, phase, allowed", EDIT)
def test_who_may_edit_the_deployment_record(client, role, assigned, phase, allowed):
    user = UserFactory(
        username=f"{role}-x", role="" if role == "staff" else role, is_staff=role == "staff"
    )
    account = AccountFactory(phase=phase)
    if assigned:
        field = {"ie": "implementation_engineer", "ta": "technical_advisor"}[role]
        Account.objects.filter(pk=account.pk).update(**{field: user})
    client.force_login(user)
    status = 302 if allowed else 403
    assert client.post(production_url(account), production_post()).status_code == status
    assert client.post(code_hosts_url(account), code_host_post([GITHUB])).status_code == status
    assert client.get(reverse("deployments:environment_create", args=[account.pk])).status_code == (
        200 if allowed else 403
    )
    check = reverse("deployments:instance_check", args=[account.pk])
    assert client.post(check, {}).status_code == (200 if allowed else 403)
    assert Environment.objects.exists() is allowed
    assert CodeHostConnection.objects.exists() is allowed
    page = client.get(reverse("accounts:detail", args=[account.pk]))
    assert page.status_code == 200  # reading is open to everyone signed in
    # The edit button; the readiness blockers link everyone to the form that fixes them.
    button = f'<a class="button" href="{production_url(account)}">'
    assert (button in page.content.decode()) is allowed


def test_anonymous_is_sent_to_sign_in(client, account):
    response = client.post(production_url(account), production_post())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not Environment.objects.exists()


# --- The account page ------------------------------------------------------------------------


def _fill(account, actor, *, code_hosts: int, environments: int):
    from deployments.services import DocumentLink, InstanceSpec, code_host_create

    environment_create(
        account=account,
        actor=actor,
        kind="production",
        data={
            "deployment_type": "kubernetes_helm",
            "hosting_provider": "aws",
            "total_cpu": 16,
            "total_memory_gb": 64,
            "max_users": 3000,
        },
        design_documents=[DocumentLink("TDD", "https://docs.example.com/tdd")],
        instance_types=[InstanceSpec(1, "m6a.4xlarge")],
    )
    kinds = ["staging", "development", "disaster_recovery", "test"]
    for i in range(environments - 1):
        environment_create(
            account=account,
            actor=actor,
            kind=kinds[i % len(kinds)],
            data={"name": f"env {i}", "total_cpu": 8},
            design_documents=[DocumentLink(f"Doc {i}", "https://docs.example.com/x")],
            instance_types=[InstanceSpec(1, "m6a.2xlarge"), InstanceSpec(2, "m6a.large")],
        )
    for i in range(code_hosts):
        code_host_create(
            account=account,
            actor=actor,
            data={
                "kind": list(CodeHostConnection.Kind)[i % 20],
                "repository_count": 10 + i,
                "monorepo_count": 0,
                "largest_repository_mb": 100 + i,
            },
        )


@pytest.mark.parametrize("code_hosts, environments", [(1, 1), (30, 5)])
def test_account_page_query_count_does_not_grow(
    client_for, account, ie, code_hosts, environments, django_assert_num_queries
):
    _fill(account, ie, code_hosts=code_hosts, environments=environments)
    client = client_for(ie)
    with django_assert_num_queries(account_page_queries()):
        response = client.get(reverse("accounts:detail", args=[account.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("<tr>") >= code_hosts


def test_account_page_shows_the_sizing_warning_and_legacy_badge(client_for, account, ie):
    from deployments.services import code_host_create

    environment_create(
        account=account,
        actor=ie,
        kind="production",
        data={
            "deployment_type": "machine_image_ami",
            "hosting_provider": "aws",
            "total_cpu": 16,
            "total_memory_gb": 64,
            "max_users": 3000,
        },
    )
    code_host_create(
        account=account,
        actor=ie,
        data={
            "kind": "perforce",
            "repository_count": 5,
            "monorepo_count": 1,
            "largest_repository_mb": 4096,
        },
    )
    page = client_for(ie).get(reverse("accounts:detail", args=[account.pk])).content.decode()
    sizing = page[page.index('id="sizing-check"') :]
    assert "Total CPU 16 is below the 32 vCPU of tier M for 3,000 users." in sizing
    assert "Source: Sourcegraph docs: instance size chart" in sizing
    assert "A 4 GB monorepo and Rockskip is not enabled" in sizing
    assert "Source: Sourcegraph docs: Rockskip" in sizing
    assert "legacy, sunset in 7.0" in page


def test_account_without_records_shows_empty_sections(client_for, account, ta):
    page = client_for(ta).get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert "No production deployment recorded yet." in page
    assert "No code host connections recorded yet." in page
    assert "Record the discussed upper limits" in page
    assert "Record production deployment" not in page  # a TA before handoff cannot edit


def test_seed_demo_gives_realistic_idempotent_records():
    from django.core.management import call_command

    from deployments.selectors import deployment_overview_get

    call_command("seed_demo")
    counts = (
        Environment.objects.count(),
        CodeHostConnection.objects.count(),
        AuditEvent.objects.count(),
    )
    call_command("seed_demo")
    assert (
        Environment.objects.count(),
        CodeHostConnection.objects.count(),
        AuditEvent.objects.count(),
    ) == counts
    borealis = deployment_overview_get(account_id=Account.objects.get(name="Borealis Bank").pk)
    assert any("Total CPU 16 is below" in w.message for w in borealis.sizing.warnings)
    evergreen = deployment_overview_get(account_id=Account.objects.get(name="Evergreen Energy").pk)
    assert any("12 GB monorepo and Rockskip" in w.message for w in evergreen.sizing.warnings)
    cobalt = deployment_overview_get(account_id=Account.objects.get(name="Cobalt Health").pk)
    assert cobalt.sizing.warnings == () and cobalt.production.infra_completion_date
    assert Environment.objects.filter(kind="production").count() >= 6
    assert User.objects.filter(username="ie").exists()


def test_admin_shows_the_records_read_only(client, admin_user, account, ie):
    from deployments.services import code_host_create

    environment = environment_create(
        account=account,
        actor=ie,
        kind="production",
        data={"deployment_type": "docker_compose", "hosting_provider": "gcp"},
    )
    host = code_host_create(
        account=account, actor=ie, data={"kind": "gerrit", "repository_count": 3}
    )
    client.force_login(admin_user)
    for model, obj in (("environment", environment), ("codehostconnection", host)):
        assert client.get(reverse(f"admin:deployments_{model}_changelist")).status_code == 200
        view = client.get(reverse(f"admin:deployments_{model}_change", args=[obj.pk]))
        assert view.status_code == 200
        assert b'type="submit"' not in view.content.split(b'id="content"')[1]  # nothing to save
        assert client.get(reverse(f"admin:deployments_{model}_add")).status_code == 403


def test_the_same_code_hosts_post_twice_adds_the_new_rows_once(client_for, account, ie):
    client = client_for(ie)
    form = client.get(code_hosts_url(account)).content.decode()
    token = form.split('name="submission" value="')[1].split('"')[0]
    data = code_host_post([GITHUB, GITLAB], submission=token)
    assert client.post(code_hosts_url(account), data).status_code == 302
    again = client.post(code_hosts_url(account), data)  # a double click or a refresh
    assert again.status_code == 200
    assert "already submitted and saved once" in again.content.decode()
    assert CodeHostConnection.objects.filter(account=account).count() == 2


# --- An edit sent without its version ----------------------------------------------------------

MISSING_VERSION = (
    "This form was sent without its version, so nothing was saved. Reload the page and make "
    "your change again."
)


@pytest.mark.parametrize("version", [None, ""], ids=["absent", "empty"])
def test_production_edit_without_its_version_is_refused_and_changes_nothing(
    client_for, account, ie, production, version
):
    """The production page records and edits at one URL: a form without a version was opened
    to record production, so it is refused as a conflict with what was recorded meanwhile."""
    before = database_state(account)
    response = client_for(ie).post(
        production_url(account), production_post(version=version, total_cpu="12")
    )
    assert response.status_code == 200
    page = response.content.decode()
    conflict = page[page.index('class="conflict"') : page.index("</section>")]
    assert "while you were editing" in conflict
    assert 'Keep theirs: <span class="conflict-value">48</span>' in conflict  # what is saved
    assert database_state(account) == before
    assert Environment.objects.get(pk=production.pk).total_cpu == 48


def test_other_environment_edit_without_its_version_is_refused_htmx_too(client_for, account, ie):
    staging = environment_create(account=account, actor=ie, kind="staging", data={"total_cpu": 8})
    before = database_state(account)
    response = client_for(ie).post(
        reverse("deployments:environment_edit", args=[account.pk, staging.pk]),
        {"_action": "save", "kind": "staging", "total_cpu": "16", **EMPTY_ROWS},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert MISSING_VERSION in response.content.decode()
    assert response.context["form"].non_field_errors() == [MISSING_VERSION]
    assert database_state(account) == before


@pytest.mark.parametrize("version", [None, ""], ids=["absent", "empty"])
def test_remove_without_its_version_is_refused_and_changes_nothing(
    client_for, account, ie, version
):
    staging = environment_create(account=account, actor=ie, kind="staging", data={"total_cpu": 8})
    before = database_state(account)
    remove = reverse("deployments:environment_delete", args=[account.pk, staging.pk])
    response = client_for(ie).post(remove, {} if version is None else {"version": version})
    assert response.status_code == 200
    page = response.content.decode()
    assert MISSING_VERSION in page[page.index('class="form-errors"') :]
    assert database_state(account) == before


def test_remove_with_a_mangled_version_is_refused(client_for, account, ie):
    staging = environment_create(account=account, actor=ie, kind="staging", data={})
    before = database_state(account)
    remove = reverse("deployments:environment_delete", args=[account.pk, staging.pk])
    response = client_for(ie).post(remove, {"version": "one"})
    assert response.status_code == 200
    assert "This form&#x27;s version is not valid" in response.content.decode()
    assert database_state(account) == before


@pytest.mark.parametrize("removed", ["", "True"], ids=["edited", "removed"])
@pytest.mark.parametrize("version", [None, ""], ids=["absent", "empty"])
def test_code_hosts_saved_row_without_its_version_is_refused_and_changes_nothing(
    client_for, account, ie, make_code_host, removed, version
):
    host = make_code_host(repositories=100)
    row = {**GITHUB, "id": str(host.pk), "repository_count": "999", "removed": removed}
    if version is not None:
        row["version"] = version
    new_row = {**GITLAB}
    before = database_state(account)
    response = client_for(ie).post(code_hosts_url(account), code_host_post([row, new_row]))
    assert response.status_code == 200
    assert response.context["formset"].non_form_errors() == [MISSING_VERSION]
    page = response.content.decode()
    errors = page[page.index('class="form-errors"') :]
    assert MISSING_VERSION in errors[: errors.index("</div>")]
    assert database_state(account) == before  # nor was the new row added
