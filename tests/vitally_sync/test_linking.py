"""Linking a portal account to a mirrored Vitally account (vitally_sync/linking.py)."""

import pytest
from django.urls import reverse

from handoff.accounts.models import Account
from handoff.accounts.services import account_create, account_update
from handoff.common.services import ANY_VERSION
from tests.vitally_sync.conftest import CPU, production_data
from vitally_sync.mirror import mirror_pull
from vitally_sync.models import AccountSync, TraitDifference, VitallyAccount
from vitally_sync.services import sync_account_push

pytestmark = pytest.mark.django_db
URL = "vitally.custom.sourcegraphInstanceUrl"


@pytest.fixture
def pulled(fake_vitally, settings):
    settings.VITALLY_MIRROR_SHARE = 1.0
    fake_vitally.account_create(
        external_id="globex-ext", name="Globex Corporation", traits={CPU: 96}
    )
    fake_vitally.account_create(external_id="initech", name="Initech")
    assert mirror_pull(full=True).completed
    return fake_vitally


def mirrored(name: str) -> VitallyAccount:
    return VitallyAccount.objects.get(name=name)


def test_the_search_finds_by_part_of_the_name_and_shows_id_and_external_id(client, ie, pulled):
    client.force_login(ie)
    response = client.get(reverse("vitally_sync:account_search"), {"vitally_account_id": "glob"})
    html = response.content.decode()
    row = mirrored("Globex Corporation")
    assert "Globex Corporation" in html and row.vitally_id in html and "globex-ext" in html
    assert f'data-vitally-pick="{row.vitally_id}"' in html and "Initech" not in html


def test_the_search_takes_any_text(client, ie, pulled):
    client.force_login(ie)
    url = reverse("vitally_sync:account_search")
    for text in ("gl\x00ob", "x" * 5000, "%", "\u202e"):
        assert client.get(url, {"vitally_account_id": text, "account": "x"}).status_code == 200


def test_the_search_marks_an_account_already_linked(client, ie, pulled):
    row = mirrored("Initech")
    account_create(actor=ie, name="Initech (portal)", vitally_account_id=row.vitally_id)
    client.force_login(ie)
    html = client.get(reverse("vitally_sync:account_search"), {"q": "initech"}).content.decode()
    assert "already linked to “Initech (portal)”" in html and "disabled" in html


def test_the_account_form_offers_the_search(client, ie, pulled):
    client.force_login(ie)
    html = client.get(reverse("accounts:create")).content.decode()
    assert f'data-hx-get="{reverse("vitally_sync:account_search")}"' in html
    assert 'id="vitally-search-results"' in html


def test_a_second_portal_account_on_the_same_vitally_account_is_refused(client, ie, pulled):
    row = mirrored("Globex Corporation")
    first = account_create(actor=ie, name="Globex", vitally_account_id=row.vitally_id)
    client.force_login(ie)
    # The same Vitally account under its other id (externalId): the form says which holds it.
    response = client.post(
        reverse("accounts:create"),
        {"name": "Globex again", "vitally_account_id": "globex-ext", "submission": "s-1"},
    )
    assert response.status_code == 200
    assert "already linked to the portal account “Globex”" in response.content.decode()
    assert not Account.objects.filter(name="Globex again").exists()
    # The same id: the database's constraint, with the field's message.
    response = client.post(
        reverse("accounts:create"),
        {"name": "Globex twice", "vitally_account_id": row.vitally_id, "submission": "s-2"},
    )
    assert "already linked" in response.content.decode()
    assert (
        Account.objects.filter(vitally_account_id__in=[row.vitally_id, "globex-ext"]).get() == first
    )


def test_an_edit_linking_an_account_another_holds_is_refused_too(client, ie, pulled, account):
    row = mirrored("Globex Corporation")
    account_create(actor=ie, name="Globex", vitally_account_id="globex-ext")
    client.force_login(ie)
    response = client.post(
        reverse("accounts:edit", args=[account.pk]),
        {
            "name": account.name,
            "vitally_account_id": row.vitally_id,
            "implementation_engineer": ie.pk,
            "version": account.version,
            "started_from": "",
        },
    )
    assert "already linked to the portal account “Globex”" in response.content.decode()
    account.refresh_from_db()
    assert account.vitally_account_id == "acme-robotics"


def test_linking_shows_what_vitally_holds_beside_the_portal_and_the_push_leaves_it(
    pulled, ie, account
):
    from deployments.models import Environment
    from deployments.services import environment_create

    environment_create(
        account=account, actor=ie, kind=Environment.Kind.PRODUCTION, data=production_data()
    )
    row = mirrored("Globex Corporation")  # Vitally says Total CPU 96; the portal says 48
    account_update(
        account=account,
        actor=ie,
        data={"vitally_account_id": row.vitally_id},
        expected_version=ANY_VERSION,
    )
    difference = TraitDifference.objects.get(account=account)
    assert (difference.trait_key, difference.portal_value, difference.vitally_value) == (
        CPU,
        48,
        96,
    )
    assert AccountSync.objects.get(pk=account.pk).differences == 1
    assert sync_account_push(account_id=account.pk).outcome.value == "pushed"
    traits = pulled.account_get(row.vitally_id)["traits"]
    assert traits[CPU] == 96  # not overwritten before a person chose
    assert traits[URL] == "https://sourcegraph.acme.example"  # the rest went
    # Keep the portal's value: now it is sent.
    from vitally_sync.differences import difference_keep

    difference_keep(
        account=account, difference_id=difference.pk, expected_version=difference.version, actor=ie
    )
    assert sync_account_push(account_id=account.pk).outcome.value == "pushed"
    assert pulled.account_get(row.vitally_id)["traits"][CPU] == 48


def test_a_difference_found_at_link_survives_a_read_back(pulled, ie, account):
    from deployments.models import Environment
    from deployments.services import environment_create
    from vitally_sync.reconcile import reconcile_pass

    environment_create(
        account=account, actor=ie, kind=Environment.Kind.PRODUCTION, data=production_data()
    )
    row = mirrored("Globex Corporation")
    account_update(
        account=account, actor=ie, data={"vitally_account_id": row.vitally_id},
        expected_version=ANY_VERSION,
    )  # fmt: skip
    assert sync_account_push(account_id=account.pk).outcome.value == "pushed"
    reconcile_pass(due_only=False)
    assert TraitDifference.objects.filter(account=account, trait_key=CPU).exists()
