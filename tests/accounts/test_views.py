import pytest
from django.urls import reverse

from handoff.accounts.models import Account
from handoff.accounts.services import account_update
from handoff.audit.models import AuditEvent
from handoff.common.services import ANY_VERSION
from tests.factories import AccountFactory, UserFactory, form_token

pytestmark = pytest.mark.django_db


def test_ie_creates_an_account_and_is_assigned_by_default(client_for, ie, manager):
    client = client_for(ie)
    form = client.get(reverse("accounts:create"))
    assert form.context["form"]["implementation_engineer"].value() == ie.pk
    response = client.post(
        reverse("accounts:create"),
        {
            "name": "Cobalt Health",
            "vitally_account_id": "cobalt-health",
            "crm_url": "https://crm.example.com/cobalt",
            "implementation_engineer": ie.pk,
            "manager": manager.pk,
            "planned_completion_date": "2027-01-15",
            "submission": form_token(),
        },
    )
    account = Account.objects.get(name="Cobalt Health")
    assert response["Location"] == reverse("accounts:detail", args=[account.pk])
    assert account.implementation_engineer == ie
    assert account.manager == manager
    assert str(account.planned_completion_date) == "2027-01-15"


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("name", "", "This field is required."),
        ("name", "x" * 201, "at most 200 characters"),
        ("crm_url", "javascript:alert(1)", "starts with http:// or https://"),
        ("crm_url", "data:text/html,hi", "starts with http:// or https://"),
        ("vitally_account_id", "acme/../../admin", "exactly as Vitally shows it"),
        ("planned_completion_date", "31/31/2026", "Enter a valid date."),
        ("implementation_engineer", "999999", "Select a valid choice"),
    ],
)
def test_bad_input_shows_message_next_to_field_and_creates_nothing(
    client_for, ie, field, value, message
):
    data = {"name": "Valid Name", field: value}
    response = client_for(ie).post(reverse("accounts:create"), data)
    assert response.status_code == 200
    errors = response.context["form"].errors[field]
    assert any(message in e for e in errors), errors
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not Account.objects.exists()


def test_duplicate_name_is_refused(client_for, ie, account):
    response = client_for(ie).post(reverse("accounts:create"), {"name": "Acme Robotics"})
    assert "already exists" in str(response.context["form"].errors["name"])
    assert Account.objects.count() == 1


def test_edit_with_stale_version_shows_current_values_and_overwrites_nothing(
    client_for, account, ie, manager
):
    account_update(
        account=account, actor=manager, data={"name": "Saved by Maya"}, expected_version=1
    )
    response = client_for(ie).post(
        reverse("accounts:edit", args=[account.pk]), {"name": "Typed by Irene", "version": 1}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "while you were editing." in page
    assert 'Keep theirs: <span class="conflict-value">Saved by Maya</span>' in page
    assert 'value="Typed by Irene"' in page  # what the person typed is kept
    assert 'name="version" value="2"' in page  # a second save is a deliberate overwrite
    account.refresh_from_db()
    assert account.name == "Saved by Maya"


MISSING_VERSION = (
    "This form was sent without its version, so nothing was saved. Reload the page and make "
    "your change again."
)


@pytest.mark.parametrize("version", [None, ""], ids=["absent", "empty"])
def test_edit_without_its_version_is_refused_and_changes_nothing(client_for, account, ie, version):
    data = {"name": "Typed blind", "planned_completion_date": "2027-02-01"}
    if version is not None:
        data["version"] = version
    response = client_for(ie).post(reverse("accounts:edit", args=[account.pk]), data)
    assert response.status_code == 200
    assert response.context["form"].errors == {"__all__": [MISSING_VERSION]}
    page = response.content.decode()
    errors = page[page.index('class="form-errors"') :]
    assert MISSING_VERSION in errors[: errors.index("</div>")]
    assert 'value="Typed blind"' in page  # what was typed stays in the form
    row = Account.objects.values("name", "planned_completion_date", "version", "change_version")
    assert row.get(pk=account.pk) == {
        "name": "Acme Robotics",
        "planned_completion_date": None,
        "version": 1,
        "change_version": account.change_version,
    }
    assert not AuditEvent.objects.filter(account=account).exists()


def test_create_form_needs_no_version(client_for, ie):
    data = {"name": "Fresh Co", "submission": form_token()}
    response = client_for(ie).post(reverse("accounts:create"), data)
    assert response.status_code == 302
    assert Account.objects.filter(name="Fresh Co").exists()


def test_account_page_shows_history_readably(client_for, account, ie):
    client = client_for(ie)
    client.post(
        reverse("accounts:edit", args=[account.pk]),
        {"name": "Acme Robotics", "planned_completion_date": "2027-02-01", "version": 1},
    )
    page = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    history = reverse("accounts:history", args=[account.pk])
    assert f'<a href="{history}">History</a>' in page  # History has a page of its own
    page = client.get(history).content.decode()
    assert "Planned completion date" in page
    assert "1 Feb 2027" in page
    event = AuditEvent.objects.get(account=account)
    assert event.actor == ie
    assert event.request_id  # set by the middleware


def test_dashboard_search_and_filters(client_for, ie, ta):
    AccountFactory(name="Borealis Bank", technical_advisor=ta)
    AccountFactory(name="Boreal Foods", phase=Account.Phase.HANDED_OFF)
    AccountFactory(name="Cobalt Health", implementation_engineer=ie)
    client = client_for(ie)

    def names(**params):
        response = client.get(reverse("accounts:dashboard"), params)
        return [a.name for a in response.context["page"].object_list]

    assert names(q="bore") == ["Boreal Foods", "Borealis Bank"]
    assert names(q="bore", phase="handed_off") == ["Boreal Foods"]
    assert names(ta=ta.pk) == ["Borealis Bank"]
    assert names(ie=ie.pk) == ["Cobalt Health"]
    assert names(phase="not-a-phase") == ["Boreal Foods", "Borealis Bank", "Cobalt Health"]


def test_only_mine_lists_only_the_users_accounts(client_for, ie, ta):
    AccountFactory(name="Mine as IE", implementation_engineer=ie)
    AccountFactory(name="Mine as TA", technical_advisor=ie)
    AccountFactory(name="Not mine")
    response = client_for(ie).get(reverse("accounts:dashboard"), {"mine": "on"})
    assert [a.name for a in response.context["page"].object_list] == ["Mine as IE", "Mine as TA"]


def test_the_former_my_accounts_page_redirects_to_the_dashboard_filtered(client_for, ie):
    response = client_for(ie).get(reverse("accounts:mine"), {"q": "acme"})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:dashboard')}?q=acme&mine=on"


def test_dashboard_htmx_request_returns_only_the_rows(client_for, ie, account):
    response = client_for(ie).get(
        reverse("accounts:dashboard"), {"q": "acme"}, HTTP_HX_REQUEST="true"
    )
    page = response.content.decode()
    assert "Acme Robotics" in page
    assert "<html" not in page


@pytest.mark.parametrize("accounts", [3, 60])
def test_dashboard_query_count_does_not_grow_with_accounts(
    client_for, ie, accounts, django_assert_num_queries
):
    people = [UserFactory(username=f"p{i}", role=r) for i, r in enumerate(["ie", "ta", "manager"])]
    AccountFactory.create_batch(
        accounts, implementation_engineer=people[0], technical_advisor=people[1], manager=people[2]
    )
    client = client_for(ie)
    # session, user, count, page rows (people joined), engineers, advisors
    with django_assert_num_queries(6):
        response = client.get(reverse("accounts:dashboard"))
    assert response.status_code == 200


@pytest.mark.parametrize("staff", [True, False])
def test_admin_link_only_for_staff(client, staff):
    user = UserFactory(username="x", is_staff=staff)
    client.force_login(user)
    page = client.get(reverse("accounts:dashboard")).content.decode()
    assert ('href="/admin/"' in page) is staff


def test_seed_demo_is_idempotent():
    from django.core.management import call_command

    call_command("seed_demo")
    counts = (Account.objects.count(), AuditEvent.objects.count())
    call_command("seed_demo")
    assert (Account.objects.count(), AuditEvent.objects.count()) == counts
    assert counts[0] == 12


def test_the_history_page_shows_every_change(client_for, account, ie, django_assert_num_queries):
    from handoff.audit.selectors import RECENT_HISTORY

    client = client_for(ie)
    for n in range(RECENT_HISTORY + 5):
        account_update(
            account=account,
            actor=ie,
            data={"crm_url": f"https://crm.example.com/{n}"},
            expected_version=ANY_VERSION,
        )
    with django_assert_num_queries(5):  # session, user, account, count, page of events
        response = client.get(reverse("accounts:history", args=[account.pk]))
    events = response.context["page"].object_list
    assert len(events) == RECENT_HISTORY + 5
    assert (
        events[0].change_for("crm_url")["after"] == f"https://crm.example.com/{RECENT_HISTORY + 4}"
    )
