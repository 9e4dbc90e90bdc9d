import dataclasses
import datetime

import pytest

from deployments.models import CodeHostConnection, Environment
from deployments.selectors import (
    DeploymentSummary,
    code_host_totals,
    deployment_of,
    deployment_overview_get,
    deployment_summary,
)
from deployments.services import DocumentLink, InstanceSpec, environment_create
from handoff.accounts.models import Account
from handoff.record import account_record_get

pytestmark = pytest.mark.django_db


def summary_of(account_id):
    return deployment_summary(deployment_overview_get(account_id=account_id))


K = CodeHostConnection.Kind


def host(kind, repositories, monorepos=0, largest=None):
    return CodeHostConnection(
        kind=kind,
        repository_count=repositories,
        monorepo_count=monorepos,
        largest_repository_mb=largest,
    )


@pytest.mark.parametrize(
    "hosts, expected",
    [
        ([], ([], None, None, None)),
        ([host(K.GITHUB_COM, 0)], (["GitHub.com"], 0, 0, None)),
        (
            [
                host(K.GITLAB_SELF_MANAGED, 1_200, 1, 4_096),
                host(K.GITHUB_COM, 300, 0, None),
                host(K.GITHUB_COM, 50, 2, 9_000),  # same kind twice: listed once
                host(K.BITBUCKET_SERVER, 10, 0, 15),
            ],
            (
                ["Bitbucket Server / Data Center", "GitHub.com", "GitLab Self-Managed"],
                1_560,
                3,
                9_000,
            ),
        ),
    ],
)
def test_code_host_totals_distinct_kinds_sums_and_maximum(hosts, expected):
    totals = code_host_totals(hosts)
    assert (
        totals.code_hosts_in_use,
        totals.number_of_repositories,
        totals.number_of_monorepos,
        totals.largest_repository_mb,
    ) == expected


def test_summary_contract_fields():
    assert [f.name for f in dataclasses.fields(DeploymentSummary)] == [
        "technical_design_document_urls",
        "prod_infra_start_date",
        "prod_infra_completion_date",
        "sourcegraph_instance_url",
        "deployment_type",
        "infrastructure_hosting_provider",
        "machine_instance_types",
        "total_cpu",
        "total_memory_gb",
        "total_disk_space_gb",
        "code_hosts_in_use",
        "number_of_repositories",
        "number_of_monorepos",
        "largest_repository_mb",
    ]
    assert DeploymentSummary.__dataclass_params__.frozen


def test_summary_of_an_empty_account(account, django_assert_num_queries):
    with django_assert_num_queries(2):  # no production environment: nothing to prefetch
        summary = summary_of(account.pk)
    assert summary == DeploymentSummary(
        technical_design_document_urls=[],
        prod_infra_start_date=None,
        prod_infra_completion_date=None,
        sourcegraph_instance_url="",
        deployment_type="",
        infrastructure_hosting_provider="",
        machine_instance_types="",
        total_cpu=None,
        total_memory_gb=None,
        total_disk_space_gb=None,
        code_hosts_in_use=[],
        number_of_repositories=None,
        number_of_monorepos=None,
        largest_repository_mb=None,
    )


@pytest.mark.parametrize("hosts", [1, 12])
def test_summary_reads_production_only_with_a_constant_query_count(
    account, ie, make_code_host, django_assert_num_queries, hosts
):
    environment_create(
        account=account,
        actor=ie,
        kind=Environment.Kind.PRODUCTION,
        data={
            "deployment_type": Environment.DeploymentType.KUBERNETES_HELM,
            "hosting_provider": Environment.HostingProvider.AWS,
            "infra_start_date": datetime.date(2026, 1, 5),
            "infra_completion_date": datetime.date(2026, 2, 20),
            "sourcegraph_instance_url": "https://sourcegraph.acme.example",
            "total_cpu": 56,
            "total_memory_gb": 224,
            "total_disk_space_gb": 2000,
        },
        design_documents=[
            DocumentLink("Technical design", "https://docs.example.com/tdd"),
            DocumentLink("Runbook", "https://docs.example.com/runbook"),
        ],
        instance_types=[InstanceSpec(3, "m6a.4xlarge"), InstanceSpec(1, "m6a.2xlarge")],
    )
    environment_create(  # another environment never leaks into the summary
        account=account,
        actor=ie,
        kind=Environment.Kind.STAGING,
        data={"total_cpu": 8, "hosting_provider": Environment.HostingProvider.AZURE},
        design_documents=[DocumentLink("Staging notes", "https://docs.example.com/staging")],
    )
    for i in range(hosts):
        make_code_host(
            kind=K.GITHUB_ENTERPRISE if i % 2 else K.GITLAB_COM,
            repositories=100,
            monorepos=1,
            largest=1000 + i,
        )
    other = Account.objects.create(name="Someone else")
    make_code_host(target=other, repositories=999_999, largest=999_999)

    with django_assert_num_queries(4):
        summary = summary_of(account.pk)

    assert summary.technical_design_document_urls == [
        "https://docs.example.com/tdd",
        "https://docs.example.com/runbook",
    ]
    assert summary.prod_infra_start_date == datetime.date(2026, 1, 5)
    assert summary.prod_infra_completion_date == datetime.date(2026, 2, 20)
    assert summary.sourcegraph_instance_url == "https://sourcegraph.acme.example"
    assert summary.deployment_type == "Kubernetes with Helm"
    assert summary.infrastructure_hosting_provider == "AWS"
    assert summary.machine_instance_types == "3 × m6a.4xlarge, 1 × m6a.2xlarge"
    assert (summary.total_cpu, summary.total_memory_gb, summary.total_disk_space_gb) == (
        56,
        224,
        2000,
    )
    # The same summary from the account's record (the Vitally payload): no query of its own.
    record = account_record_get(account.pk)
    with django_assert_num_queries(0):
        assert deployment_summary(deployment_of(record)) == summary

    expected_kinds = ["GitLab.com"] if hosts == 1 else ["GitHub Enterprise Server", "GitLab.com"]
    assert summary.code_hosts_in_use == expected_kinds
    assert summary.number_of_repositories == 100 * hosts
    assert summary.number_of_monorepos == hosts
    assert summary.largest_repository_mb == 1000 + hosts - 1


def test_summary_labels_other_with_its_description(account, ie):
    environment_create(
        account=account,
        actor=ie,
        kind=Environment.Kind.PRODUCTION,
        data={
            "deployment_type": Environment.DeploymentType.OTHER,
            "deployment_type_other": "Nomad cluster",
            "hosting_provider": Environment.HostingProvider.OTHER,
            "hosting_provider_other": "Hetzner",
        },
    )
    summary = summary_of(account.pk)
    assert summary.deployment_type == "Other: Nomad cluster"
    assert summary.infrastructure_hosting_provider == "Other: Hetzner"
