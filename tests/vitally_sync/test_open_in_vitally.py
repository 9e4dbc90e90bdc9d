""" "Open in Vitally": the account's page in Vitally's app, from VITALLY_ACCOUNT_URL."""

import pytest
from django.core.checks import run_checks
from django.urls import reverse
from django.utils import timezone

from tests.query_budget import VITALLY_PAGE_LINK, vitally_page_queries
from vitally_sync.models import VitallyAccount

pytestmark = pytest.mark.django_db

URL = "https://acme.vitally.io/customers/{id}"


def test_the_vitally_page_links_the_account_by_its_vitally_id(
    client_for, account, ie, settings, django_assert_num_queries
):
    settings.VITALLY_BASE_URL, settings.VITALLY_API_KEY = "http://127.0.0.1:9", "sk"
    settings.VITALLY_ACCOUNT_URL = URL
    client = client_for(ie)
    page = reverse("vitally_sync:panel", args=[account.pk])
    # Not mirrored: linked by what the portal holds.
    assert 'href="https://acme.vitally.io/customers/acme-robotics"' in client.get(page).text
    # Mirrored: the portal holds the externalId, Vitally's app wants its id.
    now = timezone.now()
    VitallyAccount.objects.create(
        vitally_id="9f0c-2a1b",
        external_id="acme-robotics",
        name="ACME Robotics Inc.",
        vitally_updated_at=now,
        last_seen_at=now,
    )
    queries = vitally_page_queries(with_environments=False) + VITALLY_PAGE_LINK
    with django_assert_num_queries(queries):
        html = client.get(page).text
    link = '<a href="https://acme.vitally.io/customers/9f0c-2a1b" rel="noopener noreferrer">'
    assert link in html
    assert "Open “ACME Robotics Inc.” in Vitally" in html  # Vitally's name, when it differs


def test_no_link_without_the_setting_and_a_wrong_setting_stops_the_deploy(
    client_for, account, ie, settings
):
    settings.VITALLY_BASE_URL, settings.VITALLY_API_KEY = "http://127.0.0.1:9", "sk"
    settings.VITALLY_ACCOUNT_URL = ""
    html = client_for(ie).get(reverse("vitally_sync:panel", args=[account.pk])).text
    assert "in Vitally</a>" not in html
    settings.VITALLY_ACCOUNT_URL = "https://acme.vitally.io/customers/"  # no {id}
    assert "vitally_sync.E004" in [m.id for m in run_checks()]
    settings.VITALLY_ACCOUNT_URL = "javascript:alert({id})"
    assert "vitally_sync.E004" in [m.id for m in run_checks()]
    settings.VITALLY_ACCOUNT_URL = URL
    assert "vitally_sync.E004" not in [m.id for m in run_checks()]
