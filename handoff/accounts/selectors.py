from django.db.models import Q, QuerySet

from handoff.accounts.models import Account
from handoff.registry import columns_prepare

_PEOPLE = ("implementation_engineer", "technical_advisor", "manager")


def account_list_for_dashboard(
    *,
    search: str = "",
    phase: str = "",
    implementation_engineer_id: int | None = None,
    technical_advisor_id: int | None = None,
    involving_user_id: int | None = None,
) -> QuerySet[Account]:
    """Accounts for the dashboard, people joined in (and whatever the registered columns
    need), so a page costs the same at any size."""
    qs = columns_prepare(Account.objects.select_related(*_PEOPLE)).order_by("name", "pk")
    if search:
        qs = qs.filter(name__icontains=search)
    if phase:
        qs = qs.filter(phase=phase)
    if implementation_engineer_id:
        qs = qs.filter(implementation_engineer_id=implementation_engineer_id)
    if technical_advisor_id:
        qs = qs.filter(technical_advisor_id=technical_advisor_id)
    if involving_user_id:
        qs = qs.filter(
            Q(implementation_engineer_id=involving_user_id)
            | Q(technical_advisor_id=involving_user_id)
            | Q(manager_id=involving_user_id)
        )
    return qs


def account_get(*, account_id: int) -> Account:
    return columns_prepare(Account.objects.select_related(*_PEOPLE)).get(pk=account_id)
