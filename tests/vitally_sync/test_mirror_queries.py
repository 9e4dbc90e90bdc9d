"""The mirror's pages cost the same with 1x and 10x the Vitally accounts (tests/query_budget)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from handoff.accounts.models import Account
from handoff.accounts.services import account_create
from tests.query_budget import (
    VITALLY_IMPORT_QUERIES,
    VITALLY_SEARCH_NO_MATCH_QUERIES,
    VITALLY_SEARCH_QUERIES,
)
from vitally_sync.models import VitallyAccount

pytestmark = pytest.mark.django_db


def mirror(size: int, ie) -> None:
    VitallyAccount.objects.all().delete()
    Account.objects.all().delete()
    now = timezone.now()
    for n in range(size):
        for kind in ("free", "linked"):
            row = VitallyAccount.objects.create(
                vitally_id=f"v-{kind}-{n}",
                external_id=f"ext-{kind}-{n}",
                name=f"Globex {kind} {n:03}",
                traits={"vitally.custom.totalCpu": n},
                admin_ids=["someone"],
                vitally_updated_at=now,
                last_seen_at=now,
            )
            if kind == "linked":
                account_create(actor=ie, name=f"Portal {n:03}", vitally_account_id=row.external_id)


def test_the_import_page_and_the_search_cost_the_same_at_1x_and_10x(client, manager, ie, settings):
    settings.VITALLY_BASE_URL = "http://127.0.0.1:9"  # configured (nothing is sent)
    client.force_login(manager)
    counts, shown = [], []
    for size in (1, 10):
        mirror(size, ie)
        for url, data in (
            (reverse("vitally_sync:import"), {}),
            (reverse("vitally_sync:import"), {"q": "globex"}),
            (reverse("vitally_sync:account_search"), {"vitally_account_id": "globex"}),
            (reverse("vitally_sync:account_search"), {"vitally_account_id": "initech"}),
        ):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url, data)
            counts.append(len(queries))
            context = response.context
            shown.append(len(context["rows"] if "rows" in context else context["results"]))
    assert shown == [1, 1, 2, 0, 10, 10, 8, 0]  # import: the free ones; search: its first 8
    budget = [
        VITALLY_IMPORT_QUERIES,
        VITALLY_IMPORT_QUERIES,
        VITALLY_SEARCH_QUERIES,
        VITALLY_SEARCH_NO_MATCH_QUERIES,
    ]
    assert counts == budget * 2, counts
