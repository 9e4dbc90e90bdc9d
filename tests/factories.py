import secrets

import factory

from handoff.accounts.models import Account
from handoff.people.models import User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    role = User.Role.IMPLEMENTATION_ENGINEER
    password = factory.django.Password("pw-for-tests-1")


class AccountFactory(factory.django.DjangoModelFactory):
    """Rows for reads and fixtures; tests of writes call the services instead."""

    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Customer {n:04d}")
    vitally_account_id = factory.Sequence(lambda n: f"customer-{n:04d}")
    implementation_engineer = factory.SubFactory(UserFactory)
    technical_advisor = factory.SubFactory(UserFactory, role=User.Role.TECHNICAL_ADVISOR)
    manager = factory.SubFactory(UserFactory, role=User.Role.MANAGER)


def form_token() -> str:
    """A create form's one-time token, as a freshly rendered form carries it."""
    return secrets.token_urlsafe(16)
