from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Value

from handoff.accounts.models import Account
from handoff.audit.models import AuditEvent
from handoff.people.models import User
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


def account_version_get(*, account_id: int) -> Account:
    """The account row with what a page cache key is made of (accounts/page_cache.py): its
    change_version, the state apps register (the registered columns' joins), the newest audit
    event of the account (a write that records one without bumping change_version, such as a
    review, still shows) and the people (a renamed or removed person still shows). One query.
    Raises Account.DoesNotExist."""
    people = User.objects.order_by()
    return (
        columns_prepare(Account.objects.all())
        .annotate(
            latest_event_id=Subquery(
                AuditEvent.objects.filter(account_id=OuterRef("pk"))
                .order_by("-id")
                .values("id")[:1]
            ),
            people_updated_at=Subquery(people.order_by("-updated_at").values("updated_at")[:1]),
            people_count=Subquery(
                people.annotate(one=Value(1)).values("one").annotate(n=Count("pk")).values("n")
            ),
        )
        .get(pk=account_id)
    )
