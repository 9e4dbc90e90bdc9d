import datetime

import pytest

from deployments.models import CodeHostConnection, Environment
from deployments.services import DocumentLink, InstanceSpec, code_host_create, environment_create
from handoff.closeout import services
from handoff.closeout.models import ChecklistItem
from tests.conftest import HANDBOOK_ITEMS  # noqa: F401  (re-exported for the tests here)


@pytest.fixture
def started(account, ie, template):
    """The account's checklist, started by its IE."""
    return services.checklist_start(account=account, actor=ie)


def settle(account, actor, *, leave_open: tuple[str, ...] = ()) -> None:
    """Mark every open item done (with evidence) except the titles in leave_open."""
    for item in ChecklistItem.objects.filter(account=account).order_by("position"):
        if item.title in leave_open or item.status != ChecklistItem.Status.OPEN:
            continue
        services.checklist_item_update(
            item=item,
            actor=actor,
            data={"status": "done", "evidence_url": f"https://docs.example.com/{item.position}"},
            expected_version=item.version,
        )


COMPLETE_PRODUCTION = {
    "deployment_type": Environment.DeploymentType.KUBERNETES_HELM,
    "hosting_provider": Environment.HostingProvider.AWS,
    "sourcegraph_instance_url": "https://sourcegraph.acme.example",
    "infra_start_date": datetime.date(2027, 1, 4),
    "infra_completion_date": datetime.date(2027, 1, 29),
    "total_cpu": 48,
    "total_memory_gb": 192,
    "total_disk_space_gb": 1000,
    "max_users": 900,
}


def record_deployment(account, actor) -> None:
    """A production deployment with every required field and one code host: the deployment
    record's readiness rules met."""
    if not Environment.objects.filter(account=account).exists():
        environment_create(
            account=account,
            actor=actor,
            kind=Environment.Kind.PRODUCTION,
            data=dict(COMPLETE_PRODUCTION),
            design_documents=[DocumentLink("Technical design", "https://docs.example.com/tdd")],
            instance_types=[InstanceSpec(3, "m6a.4xlarge")],
        )
    if not CodeHostConnection.objects.filter(account=account).exists():
        code_host_create(
            account=account,
            actor=actor,
            data={
                "kind": CodeHostConnection.Kind.GITHUB_COM,
                "display_name": "github.com/acme",
                "url": "https://github.com/acme",
                "repository_count": 420,
                "monorepo_count": 1,
                "largest_repository_mb": 1800,
            },
        )


def ready_account(account, *, ie, ta, leave_open: tuple[str, ...] = ()):
    """Deployment recorded, checklist settled, TA acknowledged, handoff requested: what a
    manager signs off."""
    record_deployment(account, ie)
    if not ChecklistItem.objects.filter(account=account).exists():
        services.checklist_start(account=account, actor=ie)
    settle(account, ie, leave_open=leave_open)
    services.handoff_acknowledge(account=account, actor=ta)
    services.handoff_request(account=account, actor=ie)
    account.refresh_from_db()
    return account
