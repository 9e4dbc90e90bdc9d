"""The log lists' filters say what they filter by, and the lists show what they say: the
cross-account pages filter by the item's owner or by the account's people, each under its own
label, and "Me" is the person that label names."""

import re

import pytest
from django.urls import reverse

from handoff.people.models import User
from tests.factories import AccountFactory, UserFactory
from tests.logs.factories import IssueFactory, RiskFactory

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
OVERVIEWS = [("logs:issue_overview", IssueFactory), ("logs:risk_heatmap", RiskFactory)]


def _labels(html: str) -> dict[str, str]:
    """{select name: its label} of the filter bar."""
    return dict(re.findall(r'<label for="filter-(\w+)">([^<]*)</label>', html))


@pytest.fixture
def two_accounts(ie, ta):
    """Tomas advises Acme (Irene implements it); Otto and Tess keep Bolt. Each person owns a
    row of the other's account, so "owner" and "the account's people" differ."""
    otto = UserFactory(username="otto", role=User.Role.IMPLEMENTATION_ENGINEER)
    tess = UserFactory(username="tess", role=User.Role.TECHNICAL_ADVISOR)
    acme = AccountFactory(name="Acme", implementation_engineer=ie, technical_advisor=ta)
    bolt = AccountFactory(name="Bolt", implementation_engineer=otto, technical_advisor=tess)
    return {"acme": acme, "bolt": bolt, "otto": otto, "tess": tess}


@pytest.mark.parametrize("url_name, factory", OVERVIEWS, ids=["issues", "risks"])
def test_cross_account_filters_name_the_owner_and_the_accounts_people(
    client_for, ie, ta, two_accounts, url_name, factory
):
    acme, bolt, tess = two_accounts["acme"], two_accounts["bolt"], two_accounts["tess"]
    factory(account=acme, owner=ta, title="Acme, owned by Tomas")
    factory(account=acme, owner=tess, title="Acme, owned by Tess")
    factory(account=bolt, owner=ta, title="Bolt, owned by Tomas")
    url = reverse(url_name)

    page = client_for(ta).get(url).content.decode()
    labels = _labels(page)
    assert labels["owner"] == "Owner"
    assert labels["ie"] == "Account&#x27;s implementation engineer"
    assert labels["ta"] == "Account&#x27;s technical advisor"

    # Owner: Me is the rows Tomas owns, on any account: what the Owner column shows.
    rows = client_for(ta).get(url, {"owner": "me"}, headers=HX).content.decode()
    assert "Acme, owned by Tomas" in rows and "Bolt, owned by Tomas" in rows
    assert "Acme, owned by Tess" not in rows
    assert "Filtered by owner: <strong>Me</strong>" in rows

    # Account's technical advisor: Me is every row of the accounts Tomas advises.
    rows = client_for(ta).get(url, {"ta": "me"}, headers=HX).content.decode()
    assert "Acme, owned by Tomas" in rows and "Acme, owned by Tess" in rows
    assert "Bolt, owned by Tomas" not in rows
    assert "Filtered by account&#x27;s technical advisor: <strong>Me</strong>" in rows

    # Someone else as the owner, by id, as the select sends it.
    rows = client_for(ta).get(url, {"owner": tess.pk}, headers=HX).content.decode()
    assert "Acme, owned by Tess" in rows and "owned by Tomas" not in rows
