"""Rows for reads (query counts, pages); tests of writes call the services instead."""

import factory

from logs.models import ExpansionOpportunity, Issue, JournalEntry, Risk
from tests.factories import AccountFactory, UserFactory


class JournalEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JournalEntry

    account = factory.SubFactory(AccountFactory)
    author = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Note {n}")
    body = "Upper limits: **1,200 users**, 150 concurrent."


class IssueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Issue

    account = factory.SubFactory(AccountFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Issue {n}")
    owner = factory.SubFactory(UserFactory)
    raised_by = factory.SelfAttribute("owner")


class RiskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Risk

    account = factory.SubFactory(AccountFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Risk {n}")
    description = "Because …, … may happen, which would …"
    likelihood = 3
    impact = 3
    owner = factory.SubFactory(UserFactory)
    raised_by = factory.SelfAttribute("owner")


class OpportunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExpansionOpportunity

    account = factory.SubFactory(AccountFactory)
    title = factory.Sequence(lambda n: f"Opportunity {n}")
    owner = factory.SubFactory(UserFactory)
    identified_by = factory.SelfAttribute("owner")
