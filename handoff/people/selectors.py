from django.db.models import QuerySet

from handoff.people.models import User


def user_list_by_role(*, role: str) -> QuerySet[User]:
    return User.objects.filter(role=role, is_active=True).order_by(
        "first_name", "last_name", "username"
    )


def user_list_active() -> QuerySet[User]:
    return User.objects.filter(is_active=True).order_by("first_name", "last_name", "username")
