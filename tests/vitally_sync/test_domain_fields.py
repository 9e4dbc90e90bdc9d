"""The deployment record and the logs reach Vitally: every handbook field under its trait key,
a cleared field as null (Vitally deletes the trait), and one PUT per record edit."""

import datetime

import pytest

from deployments.models import CodeHostConnection, Environment
from deployments.services import (
    DocumentLink,
    InstanceSpec,
    code_host_create,
    environment_create,
    environment_update,
)
from handoff.common.services import ANY_VERSION
from logs.services import issue_create, risk_create
from tests.vitally_sync.conftest import as_stored, portal_traits
from vitally_sync.services import sync_account_push

pytestmark = pytest.mark.django_db


@pytest.fixture
def linked(fake_vitally, account):
    fake_vitally.account_create(external_id=account.vitally_account_id, name=account.name)
    return account


@pytest.fixture
def recorded(linked, ie):
    production = environment_create(
        account=linked,
        actor=ie,
        kind=Environment.Kind.PRODUCTION,
        data={
            "deployment_type": Environment.DeploymentType.KUBERNETES_HELM,
            "hosting_provider": Environment.HostingProvider.AWS,
            "sourcegraph_instance_url": "https://sourcegraph.acme.example",
            "infra_start_date": datetime.date(2026, 9, 1),
            "infra_completion_date": datetime.date(2026, 10, 15),
            "total_cpu": 48,
            "total_memory_gb": 192,
            "total_disk_space_gb": 2000,
        },
        design_documents=[
            DocumentLink("Technical design", "https://docs.example.com/tdd"),
            DocumentLink("Runbook", "https://docs.example.com/runbook"),
        ],
        instance_types=[InstanceSpec(3, "m6a.4xlarge")],
    )
    for kind, repos, monorepos, largest in [
        (CodeHostConnection.Kind.GITHUB_COM, 1200, 1, 4096),
        (CodeHostConnection.Kind.GITHUB_COM, 300, 0, 800),
        (CodeHostConnection.Kind.BITBUCKET_SERVER, 500, 0, 1500),
    ]:
        code_host_create(
            account=linked,
            actor=ie,
            data={
                "kind": kind,
                "repository_count": repos,
                "monorepo_count": monorepos,
                "largest_repository_mb": largest,
            },
        )
    issue_create(account=linked, actor=ie, title="Indexing stalls", owner=ie, severity="high")
    risk_create(
        account=linked, actor=ie, title="Disk fills", description="Growth → full disk → outage",
        likelihood=4, impact=5, owner=ie,
    )  # fmt: skip
    return production


def test_every_handbook_field_reaches_vitally_under_its_trait_key(fake_vitally, recorded, linked):
    sync_account_push(account_id=linked.pk)
    traits = fake_vitally.account_get("acme-robotics")["traits"]
    assert traits == as_stored(portal_traits(linked))
    assert {key: traits[key] for key in traits if key != "vitally.custom.handoffStatus"} == {
        "vitally.custom.technicalDesignDocuments": (
            "https://docs.example.com/tdd\nhttps://docs.example.com/runbook"
        ),
        "vitally.custom.prodInfraStartDate": "2026-09-01T00:00:00.000Z",
        "vitally.custom.prodInfraCompletionDate": "2026-10-15T00:00:00.000Z",
        "vitally.custom.sourcegraphInstanceUrl": "https://sourcegraph.acme.example",
        "vitally.custom.deploymentType": "Kubernetes with Helm",
        "vitally.custom.infrastructureHostingProvider": "AWS",
        "vitally.custom.machineInstanceTypes": "3 × m6a.4xlarge",
        "vitally.custom.totalCpu": 48,
        "vitally.custom.totalMemoryGb": 192,
        "vitally.custom.totalDiskSpaceGb": 2000,
        "vitally.custom.codeHostsInUse": "Bitbucket Server / Data Center, GitHub.com",
        "vitally.custom.numberOfRepositories": 2000,
        "vitally.custom.numberOfMonorepos": 1,
        "vitally.custom.largestRepositoryMb": 4096,
        "vitally.custom.openIssues": 1,
        "vitally.custom.openHighRisks": 1,
    }


def test_a_cleared_field_is_sent_as_null_and_vitally_drops_it(fake_vitally, recorded, linked, ie):
    sync_account_push(account_id=linked.pk)
    environment_update(
        environment=recorded,
        actor=ie,
        data={"total_cpu": None, "infra_completion_date": None},
        expected_version=ANY_VERSION,
    )
    assert portal_traits(linked)["vitally.custom.totalCpu"] is None
    puts_before = len(fake_vitally.requests_log(method="PUT"))
    sync_account_push(account_id=linked.pk)
    put = fake_vitally.requests_log(method="PUT")[puts_before:]
    assert len(put) == 1  # one record edit, one PUT
    assert put[0]["body"]["traits"]["vitally.custom.totalCpu"] is None
    assert put[0]["body"]["traits"]["vitally.custom.prodInfraCompletionDate"] is None
    traits = fake_vitally.account_get("acme-robotics")["traits"]
    assert "vitally.custom.totalCpu" not in traits
    assert "vitally.custom.prodInfraCompletionDate" not in traits
    assert traits == as_stored(portal_traits(linked))
