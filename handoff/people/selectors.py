from collections.abc import Iterable
from functools import cache

from django.db.models import ForeignKey, Model, QuerySet

from handoff.people.models import User


def user_list_by_role(*, role: str) -> QuerySet[User]:
    return User.objects.filter(role=role, is_active=True).order_by(
        "first_name", "last_name", "username"
    )


def user_list_active() -> QuerySet[User]:
    return User.objects.filter(is_active=True).order_by("first_name", "last_name", "username")


def people_attach(objects: Iterable[Model]) -> None:
    """Set every not-yet-loaded foreign key to a person on `objects` from ONE query.

    A page that shows many rows naming a few people (the account page: ~200 log rows, ~10
    people) would otherwise join the user table once per relation in every query; the joins
    cost more than the rows. A key whose person is gone is left as it is."""
    objects = list(objects)
    wanted: list[tuple[Model, str, int]] = []
    for obj in objects:
        for field in _person_fields(type(obj)):
            person_id = getattr(obj, field.attname)
            if person_id is not None and not field.is_cached(obj):
                wanted.append((obj, field.name, person_id))
    if not wanted:
        return
    people = User.objects.in_bulk({person_id for _, _, person_id in wanted})
    for obj, name, person_id in wanted:
        if person_id in people:
            setattr(obj, name, people[person_id])


@cache
def _person_fields(model: type[Model]) -> tuple:
    return tuple(
        f
        for f in model._meta.concrete_fields
        # by primary key only: the attach looks people up by id
        if isinstance(f, ForeignKey) and f.related_model is User and f.target_field.primary_key
    )
