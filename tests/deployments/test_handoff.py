"""What the deployment record adds to the handoff: the two readiness rules (each blocker on and
off), the sizing warnings in the attention strip, the snapshot parts and their Markdown, all
read from the record's deployment slice without a query of their own."""

import datetime
import json

import pytest
from django.urls import reverse

from deployments.contribution import (
    NOT_FOR_CLOUD,
    REQUIRED_FIELDS,
    attention_sizing,
    rule_code_host_details,
    rule_production_fields,
)
from deployments.models import CodeHostConnection, Environment, InstanceTypeRow
from deployments.selectors import deployment_of, deployment_overview_get
from deployments.services import InstanceSpec, environment_create, environment_update
from deployments.snapshot import (
    markdown_code_hosts,
    markdown_other_environments,
    markdown_production,
    markdown_sizing,
    snapshot_code_hosts,
    snapshot_other_environments,
    snapshot_production,
    snapshot_sizing,
)
from handoff.closeout.attention import attention_items
from handoff.closeout.markdown import section_markdown
from handoff.common.services import ANY_VERSION
from handoff.record import account_record_get
from handoff.registry import AttentionItem
from tests.closeout.conftest import COMPLETE_PRODUCTION, record_deployment

pytestmark = pytest.mark.django_db


def loaded(account):
    """The account's record, as the pages and the sign-off read it."""
    return account_record_get(account.pk, for_snapshot=True)


def titles(blockers):
    return [b.title for b in blockers]


def production_url(account, anchor=""):
    url = reverse("deployments:production_edit", args=[account.pk])
    return f"{url}#{anchor}" if anchor else url


@pytest.fixture
def complete(account, ie):
    """A production environment with every required field, and one code host."""
    record_deployment(account, ie)
    return Environment.objects.get(account=account, kind=Environment.Kind.PRODUCTION)


# --- Required production fields present and valid ------------------------------------------------
def test_production_rule_without_a_production_environment(account):
    (blocker,) = rule_production_fields(loaded(account))
    assert (blocker.title, blocker.url) == (
        "No production deployment recorded",
        production_url(account),
    )


def test_production_rule_is_met_by_a_complete_environment(account, complete):
    assert rule_production_fields(loaded(account)) == []
    assert "production_fields" not in [
        r.rule.key for r in loaded(account).readiness.results if not r.met
    ]


LABELS = {
    "sourcegraph_instance_url": ("Sourcegraph instance URL", "id_sourcegraph_instance_url"),
    "deployment_type": ("Deployment type", "id_deployment_type"),
    "hosting_provider": ("Infrastructure Hosting Provider", "id_hosting_provider"),
    "infra_start_date": (
        "Start date of implementation of production infrastructure",
        "id_infra_start_date",
    ),
    "infra_completion_date": (
        "Completion date of implementation of production infrastructure",
        "id_infra_completion_date",
    ),
    "instance_types": ("Machine Instance Types", "machine-instances"),
    "total_cpu": ("Total CPU", "id_total_cpu"),
    "total_memory_gb": ("Total Memory (GB)", "id_total_memory_gb"),
    "total_disk_space_gb": ("Total Disk Space (GB)", "id_total_disk_space_gb"),
}


def test_the_required_fields_are_the_handbooks():
    assert list(LABELS) == REQUIRED_FIELDS


@pytest.mark.parametrize("field", REQUIRED_FIELDS)
def test_each_missing_production_field_is_one_named_blocker(account, complete, field):
    if field == "instance_types":
        InstanceTypeRow.objects.filter(environment=complete).delete()
    else:
        # Straight to the row: the form refuses an empty deployment type, an old row may not.
        empty = (
            ""
            if field in ("sourcegraph_instance_url", "deployment_type", "hosting_provider")
            else None
        )
        Environment.objects.filter(pk=complete.pk).update(**{field: empty})
    label, anchor = LABELS[field]
    blockers = rule_production_fields(loaded(account))
    assert [(b.title, b.url) for b in blockers] == [
        (f"Production field missing: {label}", production_url(account, anchor))
    ]


def test_sourcegraph_cloud_needs_no_machines_cpu_memory_or_disk(account, ie):
    environment_create(
        account=account,
        actor=ie,
        kind=Environment.Kind.PRODUCTION,
        data={
            "deployment_type": Environment.DeploymentType.SOURCEGRAPH_CLOUD,
            "hosting_provider": Environment.HostingProvider.SOURCEGRAPH_CLOUD,
            "sourcegraph_instance_url": "https://acme.sourcegraphcloud.com",
            "infra_start_date": datetime.date(2027, 1, 4),
            "infra_completion_date": datetime.date(2027, 1, 8),
        },
    )
    assert rule_production_fields(loaded(account)) == []
    assert {
        "instance_types",
        "total_cpu",
        "total_memory_gb",
        "total_disk_space_gb",
    } == NOT_FOR_CLOUD
    # Self-hosted, the same record misses all four.
    Environment.objects.filter(account=account).update(
        deployment_type=Environment.DeploymentType.KUBERNETES_HELM,
        hosting_provider=Environment.HostingProvider.GCP,
    )
    assert titles(rule_production_fields(loaded(account))) == [
        "Production field missing: Machine Instance Types",
        "Production field missing: Total CPU",
        "Production field missing: Total Memory (GB)",
        "Production field missing: Total Disk Space (GB)",
    ]


@pytest.mark.parametrize(
    "values, title, message, anchor",
    [
        (
            {"sourcegraph_version": "latest"},
            "Production field invalid: Sourcegraph version",
            "Enter a Sourcegraph version such as 5.11.6271 or 6.0.0.",
            "id_sourcegraph_version",
        ),
        (
            {"total_cpu": 0},
            "Production field invalid: Total CPU",
            "Ensure this value is greater than or equal to 1.",
            "id_total_cpu",
        ),
        (
            {"sourcegraph_instance_url": "ftp://sourcegraph.acme.example"},
            "Production field invalid: Sourcegraph instance URL",
            "Enter a link that starts with http:// or https://.",
            "id_sourcegraph_instance_url",
        ),
        (
            {"deployment_type": Environment.DeploymentType.OTHER},
            "Production field invalid: Other deployment type",
            "Describe the deployment type.",
            "id_deployment_type_other",
        ),
    ],
)
def test_an_invalid_production_field_is_a_blocker_with_the_models_message(
    account, complete, values, title, message, anchor
):
    # Rows written before a rule tightened, or by hand: the database holds them, the model not.
    Environment.objects.filter(pk=complete.pk).update(**values)
    (blocker,) = rule_production_fields(loaded(account))
    assert (blocker.title, blocker.detail, blocker.url) == (
        title,
        message,
        production_url(account, anchor),
    )


def test_completion_before_start_is_invalid(account, complete):
    # The database's check constraint keeps such a row out, so change the loaded one.
    current = loaded(account)
    production = deployment_of(current).production
    production.infra_completion_date = production.infra_start_date - datetime.timedelta(days=1)
    (blocker,) = rule_production_fields(current)
    assert (blocker.title, blocker.detail) == (
        "Production field invalid: Completion date of implementation of production infrastructure",
        "The completion date cannot be before the start date.",
    )


def test_an_invalid_instance_row_is_a_blocker(account, complete):
    InstanceTypeRow.objects.filter(environment=complete).update(count=0)
    (blocker,) = rule_production_fields(loaded(account))
    assert blocker.title == "Production field invalid: Machine Instance Types"
    assert blocker.url == production_url(account, "machine-instances")


def test_only_the_production_environment_counts(account, ie):
    environment_create(
        account=account,
        actor=ie,
        kind=Environment.Kind.STAGING,
        data={**COMPLETE_PRODUCTION},
        instance_types=[InstanceSpec(1, "m6a.4xlarge")],
    )
    assert titles(rule_production_fields(loaded(account))) == ["No production deployment recorded"]


# --- Code host details present -------------------------------------------------------------------
def test_code_host_rule_without_a_code_host(account):
    (blocker,) = rule_code_host_details(loaded(account))
    assert (blocker.title, blocker.url) == (
        "No code host recorded",
        reverse("deployments:code_hosts_edit", args=[account.pk]),
    )


def test_code_host_rule_wants_repositories_counted_and_the_largest_size(account, make_code_host):
    make_code_host(repositories=0)
    assert titles(rule_code_host_details(loaded(account))) == [
        "No repositories counted on the code hosts",
        "Largest Repository (MB) not recorded",
    ]
    make_code_host(kind=CodeHostConnection.Kind.GITLAB_COM, repositories=40)
    assert titles(rule_code_host_details(loaded(account))) == [
        "Largest Repository (MB) not recorded"
    ]
    make_code_host(kind=CodeHostConnection.Kind.GERRIT, repositories=5, largest=900)
    assert rule_code_host_details(loaded(account)) == []


def test_an_invalid_code_host_is_a_blocker(account, make_code_host):
    code_host = make_code_host(repositories=10, largest=100, name="GitHub")
    CodeHostConnection.objects.filter(pk=code_host.pk).update(monorepo_count=11)
    (blocker,) = rule_code_host_details(loaded(account))
    assert (blocker.title, blocker.detail) == (
        "Code host invalid: GitHub",
        "There cannot be more monorepos than repositories.",
    )


def test_the_rules_read_the_record_and_cost_no_query(
    account, complete, make_code_host, django_assert_num_queries
):
    for n in range(20):
        make_code_host(repositories=n + 1, largest=100 + n)
    current = loaded(account)
    with django_assert_num_queries(0):
        assert rule_production_fields(current) == []
        assert rule_code_host_details(current) == []
        attention_sizing(current)
        for snapshot in (
            snapshot_production,
            snapshot_other_environments,
            snapshot_code_hosts,
            snapshot_sizing,
        ):
            snapshot(current)


def test_the_record_holds_the_deployment_overview(
    account, complete, ie, make_code_host, django_assert_num_queries
):
    environment_create(
        account=account,
        actor=ie,
        kind=Environment.Kind.STAGING,
        data={"deployment_type": "kubernetes_helm", "hosting_provider": "aws"},
        instance_types=[InstanceSpec(1, "m6a.2xlarge")],
    )
    make_code_host(kind=CodeHostConnection.Kind.GERRIT, repositories=5, largest=900)
    current = loaded(account)
    with django_assert_num_queries(0):
        in_record = deployment_of(current)
    with django_assert_num_queries(4):
        from_queries = deployment_overview_get(account_id=account.pk)
    assert in_record.production == from_queries.production
    assert in_record.others == from_queries.others
    assert in_record.code_hosts == from_queries.code_hosts
    assert in_record.totals == from_queries.totals
    assert in_record.sizing == from_queries.sizing
    assert in_record.instance_check == from_queries.instance_check


# --- Attention: sizing warnings ------------------------------------------------------------------
def test_sizing_warnings_are_attention_items(account, ie, complete, client_for):
    assert attention_sizing(loaded(account)) == []  # 900 users on 48 vCPU / 192 GB
    environment_update(
        environment=complete,
        actor=ie,
        data={"max_users": 3000, "total_cpu": 16, "total_memory_gb": 64},
        expected_version=ANY_VERSION,
    )
    items = attention_sizing(loaded(account))
    handoff = reverse("accounts:detail", args=[account.pk])
    # One cause (the deployment's size), one item: the first warning leads, the rest follow.
    assert [(i.level, i.title, i.detail, i.url) for i in items] == [
        (
            AttentionItem.Level.WARNING,
            "Sizing: Total CPU 16 is below the 32 vCPU of tier M for 3,000 users.",
            "Also: Total Memory 64 GB is below the 128 GB of tier M for 3,000 users. "
            "Source: Sourcegraph docs: instance size chart.",
            f"{handoff}#sizing-check",
        ),
    ]
    assert items[0] in attention_items(loaded(account))
    strip = client_for(ie).get(handoff).content.decode().split('id="attention"')[1]
    strip = strip.split("</section>")[0]
    assert (
        f'<a href="{handoff}#sizing-check">Sizing: Total CPU 16 is below the 32 vCPU of tier M '
        "for 3,000 users.</a>" in strip
    )


# --- Snapshot sections ---------------------------------------------------------------------------
def test_snapshot_of_the_production_deployment_is_json_safe_with_labels(account, complete, ie):
    environment_update(
        environment=complete,
        actor=ie,
        data={"rockskip_enabled": True, "special_details": "Rockskip for the monorepo."},
        expected_version=ANY_VERSION,
    )
    data = snapshot_production(loaded(account))
    assert json.loads(json.dumps(data)) == data
    assert data == {
        "environment": "Production",
        "name": "",
        "technical_design_documents": [
            {"title": "Technical design", "url": "https://docs.example.com/tdd"}
        ],
        "infra_start_date": "2027-01-04",
        "infra_completion_date": "2027-01-29",
        "sourcegraph_instance_url": "https://sourcegraph.acme.example",
        "deployment_type": "Kubernetes with Helm",
        "deployment_type_note": "",
        "infrastructure_hosting_provider": "AWS",
        "machine_instance_types": [{"count": 3, "instance_type": "m6a.4xlarge"}],
        "total_cpu": 48,
        "total_memory_gb": 192,
        "total_disk_space_gb": 1000,
        "sourcegraph_version": "",
        "special_deployment_details": ["Rockskip enabled"],
        "other_special_details": "Rockskip for the monorepo.",
        "discussed_upper_limits": {"users": 900, "concurrent_users": None, "repositories": None},
    }


def test_snapshot_without_a_record(account):
    current = loaded(account)
    assert snapshot_production(current) is None
    assert snapshot_other_environments(current) == []
    assert snapshot_code_hosts(current) == {
        "totals": {
            "code_hosts_in_use": [],
            "number_of_repositories": None,
            "number_of_monorepos": None,
            "largest_repository_mb": None,
        },
        "connections": [],
    }
    assert snapshot_sizing(current)["recommended_tier"] is None


def test_snapshot_of_other_environments_code_hosts_and_sizing(
    account, complete, ie, make_code_host
):
    environment_create(
        account=account,
        actor=ie,
        kind=Environment.Kind.DISASTER_RECOVERY,
        data={
            "deployment_type": "machine_image_ami",
            "hosting_provider": "aws",
            "name": "us-west-2",
        },
    )
    make_code_host(kind=CodeHostConnection.Kind.GERRIT, repositories=5, largest=3000, name="G")
    current = loaded(account)
    (other,) = snapshot_other_environments(current)
    assert (other["environment"], other["name"], other["deployment_type_note"]) == (
        "Disaster recovery",
        "us-west-2",
        "legacy, sunset in 7.0",
    )
    code_hosts = snapshot_code_hosts(current)
    assert code_hosts["totals"] == {
        "code_hosts_in_use": ["Gerrit", "GitHub.com"],
        "number_of_repositories": 425,
        "number_of_monorepos": 1,
        "largest_repository_mb": 3000,
    }
    assert [c["display_name"] for c in code_hosts["connections"]] == ["github.com/acme", "G"]
    sizing = snapshot_sizing(current)
    assert json.loads(json.dumps(sizing)) == sizing
    assert sizing["recommended_tier"] == {"name": "S", "vcpu": 16, "memory_gb": 64}
    assert sizing["provisioned_tier"] == {"name": "L", "vcpu": 48, "memory_gb": 192}
    assert [w["source"] for w in sizing["warnings"]] == ["Sourcegraph docs: Rockskip"]


# --- Markdown ------------------------------------------------------------------------------------
def test_production_markdown_uses_the_handbooks_labels_and_escapes_text(account, complete, ie):
    environment_update(
        environment=complete,
        actor=ie,
        data={
            "special_details": "Uses [a link](javascript:x) | <b>bold</b>",
            "external_postgres": True,
        },
        expected_version=ANY_VERSION,
    )
    text = section_markdown("production_deployment", snapshot_production(loaded(account)))
    lines = text.splitlines()
    assert lines[:2] == ["| Field | Value |", "|---|---|"]
    assert lines[2:] == [
        "| Link to any Technical Design Documents | Technical design "
        "<https://docs.example.com/tdd> |",
        "| Start date of implementation of production infrastructure | 2027-01-04 |",
        "| Completion date of implementation of production infrastructure | 2027-01-29 |",
        "| Sourcegraph instance URL | <https://sourcegraph.acme.example> |",
        "| Deployment type | Kubernetes with Helm |",
        "| Infrastructure Hosting Provider | AWS |",
        "| Machine Instance Types | 3 × m6a.4xlarge |",
        "| Total CPU | 48 |",
        "| Total Memory (GB) | 192 |",
        "| Total Disk Space (GB) | 1,000 |",
        "| Sourcegraph version | — |",
        "| Special deployment details | External PostgreSQL; Uses \\[a link\\](javascript:x) "
        "\\| \\<b\\>bold\\</b\\> |",
        "| Discussed upper limits | 900 users |",
    ]
    assert markdown_production(None) == "No production deployment recorded."


def test_other_environments_markdown_lists_each_with_its_filled_fields():
    data = [
        {
            "environment": "Staging",
            "name": "EU",
            "technical_design_documents": [],
            "infra_start_date": None,
            "infra_completion_date": None,
            "sourcegraph_instance_url": "",
            "deployment_type": "Kubernetes with Kustomize",
            "deployment_type_note": "legacy, planned for deprecation",
            "infrastructure_hosting_provider": "Azure",
            "machine_instance_types": [],
            "total_cpu": 16,
            "total_memory_gb": None,
            "total_disk_space_gb": None,
            "sourcegraph_version": "",
            "special_deployment_details": [],
            "other_special_details": "",
            "discussed_upper_limits": {
                "users": None,
                "concurrent_users": None,
                "repositories": None,
            },
        }
    ]
    assert markdown_other_environments(data) == (
        "**Staging: EU**\n\n| Field | Value |\n|---|---|\n"
        "| Deployment type | Kubernetes with Kustomize (legacy, planned for deprecation) |\n"
        "| Infrastructure Hosting Provider | Azure |\n| Total CPU | 16 |"
    )
    assert markdown_other_environments([]) == "No other environments recorded."


def test_code_hosts_markdown_has_the_totals_then_each_connection(account, complete, make_code_host):
    make_code_host(kind=CodeHostConnection.Kind.PERFORCE, repositories=35, largest=3000)
    text = markdown_code_hosts(snapshot_code_hosts(loaded(account)))
    assert text == (
        "| Field | Value |\n|---|---|\n"
        "| Code Hosts in Use | GitHub.com, Perforce |\n"
        "| Number of Repositories | 455 |\n"
        "| Number of Monorepos | 1 |\n"
        "| Largest Repository (MB) | 3,000 |\n\n"
        "| Code host | Name | URL | Repositories | Monorepos | Largest repository (MB) |\n"
        "|---|---|---|---|---|---|\n"
        "| GitHub.com | github.com/acme | <https://github.com/acme> | 420 | 1 | 1,800 |\n"
        "| Perforce | — | — | 35 | 0 | 3,000 |"
    )
    empty = snapshot_code_hosts(loaded(type(account).objects.create(name="Empty")))
    assert markdown_code_hosts(empty).endswith("No code host connections recorded.")


def test_sizing_markdown(account, complete):
    text = markdown_sizing(snapshot_sizing(loaded(account)))
    assert text == (
        "Recommended tier: **S** (16 vCPU, 64 GB memory) for 900 users.\n"
        "The recorded CPU and memory reach tier L."
    )
    beyond = {
        "recommended_tier": None,
        "beyond_chart": True,
        "for": "30,000 users",
        "provisioned_tier": None,
        "warnings": [{"message": "30,000 users exceed tier XL's 20,000.", "source": "Chart"}],
        "notes": ["Total CPU is not recorded."],
    }
    assert markdown_sizing(beyond) == (
        "Beyond tier XL for 30,000 users: plan the size with Sourcegraph.\n\nWarnings:\n\n"
        "- 30,000 users exceed tier XL's 20,000. (Source: Chart)\n\n"
        "- Total CPU is not recorded."
    )
