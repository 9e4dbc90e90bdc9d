import pytest

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


def ready_account(account, *, ie, ta, leave_open: tuple[str, ...] = ()):
    """Checklist settled, TA acknowledged, handoff requested: what a manager signs off."""
    if not ChecklistItem.objects.filter(account=account).exists():
        services.checklist_start(account=account, actor=ie)
    settle(account, ie, leave_open=leave_open)
    services.handoff_acknowledge(account=account, actor=ta)
    services.handoff_request(account=account, actor=ie)
    account.refresh_from_db()
    return account
