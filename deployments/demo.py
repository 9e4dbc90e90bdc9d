"""Demo deployment records for `manage.py seed_demo`: some complete, some half-filled, one
under-sized (Borealis Bank: 3,000 users on 16 vCPU), one with a big monorepo and Rockskip off
(Evergreen Energy), one with a legacy deployment method. The accounts the handoff demo takes to
sign-off (Cobalt Health, Dunmore Logistics, Juniper Retail) have every required field.
Idempotent: an account that already has a production environment or code hosts keeps them.
Written through the services, so the demo History shows who recorded what."""

import datetime

from django.utils import timezone

from deployments.models import CodeHostConnection, Environment
from deployments.services import DocumentLink, InstanceSpec, code_host_create, environment_create

K = Environment.Kind
T = Environment.DeploymentType
P = Environment.HostingProvider
C = CodeHostConnection.Kind


def _docs(slug: str, *titles: str) -> list[DocumentLink]:
    return [
        DocumentLink(
            title=title, url=f"https://docs.example.com/{slug}/{title.lower().replace(' ', '-')}"
        )
        for title in titles
    ]


def _records(today: datetime.date) -> dict[str, dict]:
    """name → production (data, documents, instances), other environments, code hosts."""

    def days(n: int) -> datetime.date:
        return today + datetime.timedelta(days=n)

    return {
        # Half-filled: infrastructure in progress, no disk or version yet.
        "Acme Robotics": {
            "production": (
                {
                    "deployment_type": T.KUBERNETES_HELM,
                    "hosting_provider": P.AWS,
                    "infra_start_date": days(-20),
                    "sourcegraph_instance_url": "https://sourcegraph.acme-robotics.example",
                    "total_cpu": 48,
                    "total_memory_gb": 192,
                    "max_users": 900,
                    "external_postgres": True,
                },
                _docs("acme", "Technical design"),
                [InstanceSpec(3, "m6a.4xlarge")],
            ),
            "code_hosts": [
                (
                    C.GITHUB_ENTERPRISE,
                    "GitHub Enterprise",
                    "https://github.acme-robotics.example",
                    1_240,
                    0,
                    1_800,
                ),
            ],
        },
        # Under-sized: 3,000 users on a single 16 vCPU VM, so the sizing check warns.
        "Borealis Bank": {
            "production": (
                {
                    "deployment_type": T.DOCKER_COMPOSE,
                    "hosting_provider": P.AZURE,
                    "infra_start_date": days(-45),
                    "sourcegraph_instance_url": "https://sourcegraph.borealis.example",
                    "sourcegraph_version": "6.0.0",
                    "total_cpu": 16,
                    "total_memory_gb": 64,
                    "total_disk_space_gb": 1_500,
                    "max_users": 3_000,
                    "max_concurrent_users": 600,
                    "max_repositories": 12_000,
                },
                _docs("borealis", "Technical design", "Network and TLS"),
                [InstanceSpec(1, "Standard_D16s_v3")],
            ),
            "code_hosts": [
                (
                    C.BITBUCKET_SERVER,
                    "Bitbucket Data Center",
                    "https://bitbucket.borealis.example",
                    9_200,
                    0,
                    1_400,
                ),
                (C.GITLAB_SELF_MANAGED, "GitLab", "https://gitlab.borealis.example", 2_650, 0, 900),
            ],
        },
        # Complete, with a staging environment.
        "Cobalt Health": {
            "production": (
                {
                    "deployment_type": T.KUBERNETES_HELM,
                    "hosting_provider": P.GCP,
                    "infra_start_date": days(-70),
                    "infra_completion_date": days(-12),
                    "sourcegraph_instance_url": "https://sourcegraph.cobalt-health.example",
                    "sourcegraph_version": "6.1.1295",
                    "total_cpu": 64,
                    "total_memory_gb": 256,
                    "total_disk_space_gb": 2_000,
                    "rockskip_enabled": True,
                    "external_postgres": True,
                    "external_object_storage": True,
                    "executors_enabled": True,
                    "special_details": "Cloud SQL for PostgreSQL 16 (separate instances for "
                    "pgsql and codeintel-db). Executors on c2-standard-8 for auto-indexing Go "
                    "and TypeScript.",
                    "max_users": 2_500,
                    "max_concurrent_users": 500,
                    "max_repositories": 20_000,
                },
                _docs("cobalt", "Technical design", "Upgrade runbook"),
                [InstanceSpec(4, "n2-standard-16")],
            ),
            "others": [
                (
                    K.STAGING,
                    {
                        "deployment_type": T.KUBERNETES_HELM,
                        "hosting_provider": P.GCP,
                        "sourcegraph_instance_url": "https://sourcegraph-staging.cobalt-health.example",
                        "sourcegraph_version": "6.1.1295",
                        "total_cpu": 16,
                        "total_memory_gb": 64,
                    },
                    [InstanceSpec(1, "n2-standard-16")],
                ),
            ],
            "code_hosts": [
                (
                    C.GITHUB_COM,
                    "github.com/cobalt-health",
                    "https://github.com/cobalt-health",
                    820,
                    0,
                    1_100,
                ),
                (
                    C.GITLAB_COM,
                    "gitlab.com/cobalt-data",
                    "https://gitlab.com/cobalt-data",
                    140,
                    0,
                    350,
                ),
            ],
        },
        # Complete, on Sourcegraph Cloud.
        "Dunmore Logistics": {
            "production": (
                {
                    "deployment_type": T.SOURCEGRAPH_CLOUD,
                    "hosting_provider": P.SOURCEGRAPH_CLOUD,
                    "infra_start_date": days(-120),
                    "infra_completion_date": days(-95),
                    "sourcegraph_instance_url": "https://dunmore.sourcegraphcloud.com",
                    "sourcegraph_version": "6.2.0",
                    "max_users": 1_200,
                    "max_repositories": 6_000,
                },
                _docs("dunmore", "Cloud onboarding"),
                [],
            ),
            "code_hosts": [
                (C.GITHUB_COM, "github.com/dunmore", "https://github.com/dunmore", 5_400, 0, 2_100),
                (C.PERFORCE, "Helix Core (warehouse systems)", "", 60, 0, 1_500),
            ],
        },
        # A 12 GB monorepo and Rockskip not enabled.
        "Evergreen Energy": {
            "production": (
                {
                    "deployment_type": T.KUBERNETES_HELM,
                    "hosting_provider": P.AWS,
                    "infra_start_date": days(-15),
                    "sourcegraph_instance_url": "https://sourcegraph.evergreen.example",
                    "total_cpu": 64,
                    "total_memory_gb": 256,
                    "total_disk_space_gb": 3_000,
                    "max_users": 800,
                    "max_repositories": 600,
                },
                [],
                [InstanceSpec(2, "m6a.8xlarge")],
            ),
            "code_hosts": [
                (C.GERRIT, "Gerrit", "https://gerrit.evergreen.example", 420, 1, 12_288),
                (C.PERFORCE, "Perforce (firmware)", "", 35, 0, 3_000),
            ],
        },
        # Half-filled: only the method and the provider so far.
        "Ion Semiconductors": {
            "production": (
                {"deployment_type": T.KUBERNETES_HELM, "hosting_provider": P.ON_PREMISES},
                [],
                [],
            ),
        },
        # Handed off, on a legacy method with a disaster-recovery copy.
        "Helix Pharmaceuticals": {
            "production": (
                {
                    "deployment_type": T.MACHINE_IMAGE_AMI,
                    "hosting_provider": P.AWS,
                    "infra_start_date": days(-200),
                    "infra_completion_date": days(-160),
                    "sourcegraph_instance_url": "https://sourcegraph.helix.example",
                    "sourcegraph_version": "5.11.6271",
                    "total_cpu": 32,
                    "total_memory_gb": 128,
                    "total_disk_space_gb": 1_000,
                    "max_users": 1_800,
                    "max_concurrent_users": 300,
                    "max_repositories": 8_000,
                },
                _docs("helix", "Technical design"),
                [InstanceSpec(1, "m6a.8xlarge")],
            ),
            "others": [
                (
                    K.DISASTER_RECOVERY,
                    {
                        "deployment_type": T.MACHINE_IMAGE_AMI,
                        "hosting_provider": P.AWS,
                        "total_cpu": 32,
                        "total_memory_gb": 128,
                    },
                    [InstanceSpec(1, "m6a.8xlarge")],
                ),
            ],
            "code_hosts": [
                (
                    C.GITHUB_ENTERPRISE,
                    "GitHub Enterprise",
                    "https://github.helix.example",
                    6_900,
                    0,
                    1_900,
                ),
                (C.AZURE_DEVOPS, "Azure DevOps", "https://dev.azure.com/helix", 380, 0, 600),
            ],
        },
        # Handed off cleanly: EKS, every handbook field, Rockskip for the monorepo.
        "Juniper Retail": {
            "production": (
                {
                    "deployment_type": T.KUBERNETES_HELM,
                    "hosting_provider": P.AWS,
                    "infra_start_date": days(-90),
                    "infra_completion_date": days(-30),
                    "sourcegraph_instance_url": "https://sourcegraph.juniper-retail.example",
                    "sourcegraph_version": "6.2.2553",
                    "total_cpu": 96,
                    "total_memory_gb": 384,
                    "total_disk_space_gb": 4_000,
                    "rockskip_enabled": True,
                    "external_postgres": True,
                    "special_details": "Amazon RDS for PostgreSQL; gitserver on gp3 volumes.",
                    "max_users": 6_000,
                    "max_concurrent_users": 1_200,
                    "max_repositories": 18_000,
                },
                _docs("juniper", "Technical design", "Upgrade runbook"),
                [InstanceSpec(3, "m6a.8xlarge")],
            ),
            "code_hosts": [
                (
                    C.GITHUB_ENTERPRISE,
                    "GitHub Enterprise",
                    "https://github.juniper-retail.example",
                    14_500,
                    2,
                    5_200,
                ),
                (
                    C.BITBUCKET_CLOUD,
                    "bitbucket.org/juniper-stores",
                    "https://bitbucket.org/juniper-stores",
                    600,
                    0,
                    800,
                ),
            ],
        },
        # Complete, Kustomize (planned for deprecation), ready for handoff.
        "Granite Insurance": {
            "production": (
                {
                    "deployment_type": T.KUBERNETES_KUSTOMIZE,
                    "hosting_provider": P.AZURE,
                    "infra_start_date": days(-60),
                    "infra_completion_date": days(-5),
                    "sourcegraph_instance_url": "https://sourcegraph.granite.example",
                    "sourcegraph_version": "6.1.1295",
                    "total_cpu": 48,
                    "total_memory_gb": 192,
                    "total_disk_space_gb": 2_500,
                    "external_postgres": True,
                    "external_redis": True,
                    "max_users": 4_000,
                    "max_concurrent_users": 800,
                    "max_repositories": 30_000,
                },
                _docs("granite", "Technical design"),
                [InstanceSpec(3, "Standard_D16s_v3")],
            ),
            "code_hosts": [
                (C.AZURE_DEVOPS, "Azure DevOps", "https://dev.azure.com/granite", 18_500, 0, 2_900),
            ],
        },
    }


def seed(*, users, accounts, stdout) -> None:
    today = timezone.localdate()
    created = 0
    for name, record in _records(today).items():
        account = accounts.get(name)
        if account is None:
            continue
        actor = account.implementation_engineer or users["manager"]
        if not Environment.objects.filter(account=account).exists():
            data, documents, instances = record["production"]
            environment_create(
                account=account,
                actor=actor,
                kind=K.PRODUCTION,
                data=data,
                design_documents=documents,
                instance_types=instances,
            )
            for kind, other, other_instances in record.get("others", []):
                environment_create(
                    account=account,
                    actor=actor,
                    kind=kind,
                    data=other,
                    instance_types=other_instances,
                )
            created += 1
        if not CodeHostConnection.objects.filter(account=account).exists():
            for kind, display, url, repositories, monorepos, largest in record.get(
                "code_hosts", []
            ):
                code_host_create(
                    account=account,
                    actor=actor,
                    data={
                        "kind": kind,
                        "display_name": display,
                        "url": url,
                        "repository_count": repositories,
                        "monorepo_count": monorepos,
                        "largest_repository_mb": largest,
                    },
                )
    stdout.write(f"Deployment records: {created} accounts seeded.")
