"""Import from Vitally (vitally_sync/importing.py): the page, the service, people by e-mail."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from handoff.accounts.models import Account
from handoff.audit.models import AuditEvent
from tests.factories import UserFactory
from tests.vitally_sync.conftest import CPU
from vitally_sync.mirror import mirror_pull
from vitally_sync.models import TraitDifference, VitallyAccount

pytestmark = pytest.mark.django_db
URL_KEY = "vitally.custom.sourcegraphInstanceUrl"
COUNT_KEY = "vitally.custom.numberOfRepositories"


@pytest.fixture
def vitally(fake_vitally, settings, ie, ta, manager):
    cache.clear()  # the admins found by e-mail, kept an hour (the default cache: this process's)
    settings.VITALLY_MIRROR_SHARE = 1.0
    ie.email, ta.email = "irene@example.com", "tomas@example.com"
    ie.save(update_fields=["email"])
    ta.save(update_fields=["email"])
    owner = fake_vitally.admin_create(email="IRENE@example.com", name="Irene")
    csm = fake_vitally.admin_create(email="tomas@example.com", name="Tomas")
    fake_vitally.admin_create(email="someone@else.example", name="Not in the portal")
    globex = fake_vitally.account_create(
        external_id="globex",
        name="Globex Corporation",
        traits={
            CPU: 96,
            URL_KEY: "https://sg.globex.example",
            COUNT_KEY: 12,
            "vitally.custom.deploymentType": "Kubernetes with Helm",
            "vitally.custom.infrastructureHostingProvider": "AWS",
        },
    )
    globex["accountOwnerId"], globex["csmId"] = owner["id"], csm["id"]
    fake_vitally.account_create(external_id="initech", name="Initech")
    fake_vitally.account_create(external_id="umbrella", name="Umbrella Corp")
    assert mirror_pull(full=True).completed
    return fake_vitally


def ids(*names):
    return list(VitallyAccount.objects.filter(name__in=names).values_list("vitally_id", flat=True))


def test_the_page_lists_vitally_accounts_not_in_the_portal_filtered_by_name(
    client, manager, vitally, ie
):
    from handoff.accounts.services import account_create

    account_create(actor=ie, name="Initech", vitally_account_id="initech")  # by externalId
    client.force_login(manager)
    html = client.get(reverse("vitally_sync:import")).content.decode()
    assert "Globex Corporation" in html and "Umbrella Corp" in html and "Initech" not in html
    # What an import would take, in the fields' words, before anyone imports.
    globex = html[html.index("Globex Corporation") : html.index("Umbrella Corp")]
    assert "<summary>5 values in Vitally</summary>" in globex
    assert "<dt>Total CPU</dt><dd>96</dd>" in globex
    assert "<dt>Number of Repositories</dt><dd>12</dd>" in globex
    assert "No values in Vitally for the portal's fields." in html[html.index("Umbrella") :]
    html = client.get(reverse("vitally_sync:import"), {"q": "umbr"}).content.decode()
    assert "Umbrella Corp" in html and "Globex Corporation" not in html


def test_an_import_creates_accounts_with_people_and_audited_first_values(
    client, manager, vitally, ie, ta
):
    client.force_login(manager)
    response = client.post(
        reverse("vitally_sync:import"),
        {"vitally_ids": ids("Globex Corporation", "Umbrella Corp")},
        follow=True,
    )
    assert "Imported 2 accounts from Vitally" in response.content.decode()
    globex = Account.objects.get(name="Globex Corporation")
    umbrella = Account.objects.get(name="Umbrella Corp")
    links = (
        f'<a href="{globex.get_absolute_url()}">Globex Corporation</a>, '
        f'<a href="{umbrella.get_absolute_url()}">Umbrella Corp</a>'
    )
    assert links in response.content.decode()  # each new account one click away
    assert globex.vitally_account_id == ids("Globex Corporation")[0]
    assert (globex.implementation_engineer, globex.technical_advisor) == (ie, ta)
    assert Account.objects.filter(name="Umbrella Corp").exists()
    from deployments.models import Environment

    production = Environment.objects.get(account=globex, kind=Environment.Kind.PRODUCTION)
    assert production.total_cpu == 96
    assert production.sourcegraph_instance_url == "https://sg.globex.example"
    messages = list(AuditEvent.objects.filter(account=globex).values_list("message", flat=True))
    [imported] = [m for m in messages if m.startswith("Imported from Vitally")]
    assert "Vitally's values are the record's first values." in imported
    held_none = AuditEvent.objects.get(account=umbrella, message__startswith="Imported from")
    assert "Vitally held no values for the portal's fields." in held_none.message
    assert imported.endswith(
        f"People Vitally names, matched by e-mail: implementation engineer {ie}, "
        f"technical advisor {ta}."
    )
    assert any("Taken from Vitally: Total CPU" in m for m in messages)
    # A count the portal derives cannot be taken: it waits beside the portal's, unseen by none.
    left = TraitDifference.objects.get(account=globex)
    assert (left.trait_key, left.vitally_value) == (COUNT_KEY, 12)
    searches = vitally.requests_log(method="GET", path_prefix="/resources/admins/search")
    assert searches and all("email" in s["query"] for s in searches)


def test_an_import_refused_for_one_account_imports_none(client, manager, vitally, ie):
    from handoff.accounts.services import account_create

    chosen = ids("Globex Corporation", "Umbrella Corp")
    account_create(actor=ie, name="Umbrella Corp")  # the name is taken since the page showed
    client.force_login(manager)
    response = client.post(reverse("vitally_sync:import"), {"vitally_ids": chosen})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_vitally_ids_error"' in html and "already called “Umbrella Corp”" in html
    assert not Account.objects.filter(name="Globex Corporation").exists()


def test_nothing_chosen_says_so_beside_the_list(client, manager, vitally):
    client.force_login(manager)
    response = client.post(reverse("vitally_sync:import"), {})
    assert "Choose at least one Vitally account to import." in response.content.decode()


def test_without_vitally_answering_the_accounts_come_without_people(
    client, manager, vitally, settings
):
    vitally.auth_fail_next = 100  # every admins search: 401
    client.force_login(manager)
    response = client.post(
        reverse("vitally_sync:import"), {"vitally_ids": ids("Globex Corporation")}, follow=True
    )
    html = response.content.decode()
    assert "Imported 1 account from Vitally" in html and "Imported without people" in html
    globex = Account.objects.get(name="Globex Corporation")
    assert globex.implementation_engineer is None and globex.technical_advisor is None


@pytest.mark.parametrize("role", ["ie", "ta"])
def test_only_managers_and_admins_import(client, vitally, role, request):
    person = request.getfixturevalue(role)
    client.force_login(person)
    assert client.get(reverse("vitally_sync:import")).status_code == 403
    response = client.post(reverse("vitally_sync:import"), {"vitally_ids": ids("Initech")})
    assert response.status_code == 403
    assert not Account.objects.filter(name="Initech").exists()


def test_admins_import_too(client, vitally):
    admin = UserFactory(username="ops", role="", is_staff=True)
    client.force_login(admin)
    assert client.get(reverse("vitally_sync:import")).status_code == 200


def test_a_value_the_portal_writes_otherwise_is_said_so_in_history(client, manager, vitally):
    """Vitally's "GCP" is the portal's choice "Google Cloud", which the next push sends over
    it: History says so, so nobody wonders why Vitally's spelling changed."""
    vitally.account_create(
        external_id="hooli",
        name="Hooli",
        traits={
            "vitally.custom.deploymentType": "Kubernetes with Helm",
            "vitally.custom.infrastructureHostingProvider": "GCP",
        },
    )
    assert mirror_pull(full=True).completed
    client.force_login(manager)
    # Said before the import too, beside the value.
    html = client.get(reverse("vitally_sync:import"), {"q": "hooli"}).content.decode()
    assert (
        '<dd>GCP <span class="meta">(the portal&#x27;s “Google Cloud”, which goes to Vitally in '
        "its place)</span></dd>"
    ) in html
    client.post(reverse("vitally_sync:import"), {"vitally_ids": ids("Hooli")})
    hooli = Account.objects.get(name="Hooli")
    [taken] = AuditEvent.objects.filter(account=hooli, message__startswith="Taken from Vitally")
    assert taken.message == (
        "Taken from Vitally as the production deployment's first values: Deployment type "
        "Kubernetes with Helm; Infrastructure Hosting Provider GCP (the portal's “Google "
        "Cloud”, which goes to Vitally in its place)."
    )
