import pytest

from deployments.models import CodeHostConnection, Environment
from deployments.services import DocumentLink, InstanceSpec, code_host_create, environment_create

PRODUCTION_DATA = {
    "deployment_type": Environment.DeploymentType.KUBERNETES_HELM,
    "hosting_provider": Environment.HostingProvider.AWS,
    "sourcegraph_instance_url": "https://sourcegraph.acme.example",
    "infra_start_date": "2026-01-05",
    "total_cpu": 48,
    "total_memory_gb": 192,
    "total_disk_space_gb": 1000,
    "max_users": 3000,
}


@pytest.fixture
def production(account, ie):
    return environment_create(
        account=account,
        actor=ie,
        kind=Environment.Kind.PRODUCTION,
        data=dict(PRODUCTION_DATA),
        design_documents=[DocumentLink("Technical design", "https://docs.example.com/tdd")],
        instance_types=[InstanceSpec(3, "m6a.4xlarge")],
    )


@pytest.fixture
def make_code_host(account, ie):
    def make(
        kind=CodeHostConnection.Kind.GITHUB_COM,
        repositories=100,
        monorepos=0,
        largest=None,
        target=None,
        name="",
    ):
        return code_host_create(
            account=target or account,
            actor=ie,
            data={
                "kind": kind,
                "display_name": name,
                "repository_count": repositories,
                "monorepo_count": monorepos,
                "largest_repository_mb": largest,
            },
        )

    return make
