"""Extra columns of the accounts dashboard, registered by other apps (in AppConfig.ready), so
the core never imports them. Each column may add joins or annotations to the dashboard's
queryset (`prepare`), so the page's query count stays constant. A column may also show on the
account page, beside the phase."""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet


@dataclass(frozen=True)
class DashboardColumn:
    key: str
    title: str
    template: str  # rendered with `account` (a row of the prepared queryset)
    prepare: Callable[[QuerySet], QuerySet] | None = None
    order: int = 100
    on_account_page: bool = False


_columns: dict[str, DashboardColumn] = {}


def register_column(column: DashboardColumn) -> None:
    _columns[column.key] = column


def dashboard_columns() -> list[DashboardColumn]:
    return sorted(_columns.values(), key=lambda c: (c.order, c.key))


def dashboard_columns_prepare(queryset: QuerySet) -> QuerySet:
    for column in dashboard_columns():
        if column.prepare is not None:
            queryset = column.prepare(queryset)
    return queryset
