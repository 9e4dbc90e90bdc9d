import pytest
from django.urls import reverse

from handoff.accounts.models import Account
from handoff.permissions import Action, can
from tests.factories import AccountFactory, UserFactory, form_token

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url_name, args",
    [
        ("accounts:dashboard", []),
        ("accounts:mine", []),
        ("accounts:my_work", []),
        ("accounts:my_work_count", []),
        ("accounts:create", []),
        ("accounts:detail", ["ACCOUNT"]),
        ("accounts:edit", ["ACCOUNT"]),
    ],
)
def test_anonymous_is_sent_to_sign_in(client, account, url_name, args):
    url = reverse(url_name, args=[account.pk if a == "ACCOUNT" else a for a in args])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_anonymous_post_creates_nothing(client):
    response = client.post(reverse("accounts:create"), {"name": "Sneaky"})
    assert response.status_code == 302
    assert not Account.objects.exists()


# role, assigned?, phase -> may edit the account
EDIT_MATRIX = [
    ("ie", True, Account.Phase.IMPLEMENTATION, True),
    ("ie", True, Account.Phase.READY_FOR_HANDOFF, True),
    ("ie", True, Account.Phase.HANDED_OFF, False),
    ("ie", False, Account.Phase.IMPLEMENTATION, False),
    ("ta", True, Account.Phase.IMPLEMENTATION, False),
    ("ta", True, Account.Phase.HANDED_OFF, True),
    ("ta", False, Account.Phase.HANDED_OFF, False),
    ("manager", False, Account.Phase.IMPLEMENTATION, True),
    ("manager", False, Account.Phase.HANDED_OFF, True),
    ("staff", False, Account.Phase.HANDED_OFF, True),
]


@pytest.mark.parametrize("role, assigned, phase, allowed", EDIT_MATRIX)
def test_account_edit_matrix(client, role, assigned, phase, allowed):
    user = UserFactory(
        username=f"{role}-user", role="" if role == "staff" else role, is_staff=role == "staff"
    )
    account = AccountFactory(phase=phase)
    if assigned:
        field = {"ie": "implementation_engineer", "ta": "technical_advisor"}.get(role)
        setattr(account, field, user)
        account.save()
    assert can(user, Action.ACCOUNT_EDIT, account) is allowed

    client.force_login(user)
    response = client.post(
        reverse("accounts:edit", args=[account.pk]),
        {"name": "Renamed by request", "phase": phase, "version": account.version},
    )
    account.refresh_from_db()
    if allowed:
        assert response.status_code == 302
        assert account.name == "Renamed by request"
    else:
        assert response.status_code == 403
        assert account.name != "Renamed by request"


@pytest.mark.parametrize(
    "role, staff, allowed",
    [
        ("ie", False, True),
        ("manager", False, True),
        ("ta", False, False),
        ("", True, True),
        ("", False, False),
    ],
)
def test_account_create_by_role(client, role, staff, allowed):
    user = UserFactory(username="someone", role=role, is_staff=staff)
    client.force_login(user)
    data = {"name": "Fresh Customer", "submission": form_token()}
    response = client.post(reverse("accounts:create"), data)
    assert Account.objects.filter(name="Fresh Customer").exists() is allowed
    assert response.status_code == (302 if allowed else 403)


@pytest.mark.parametrize("who", ["ie", "manager"])
def test_nobody_changes_the_phase_through_the_edit_form_even_with_a_forged_field(
    client, account, request, who
):
    """The phase moves only through the handoff workflow (request, sign-off, reopen), so every
    handed-off account has a manager's sign-off behind it."""
    client.force_login(request.getfixturevalue(who))
    response = client.post(
        reverse("accounts:edit", args=[account.pk]),
        {"name": account.name, "phase": "handed_off", "version": account.version},
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.phase == Account.Phase.IMPLEMENTATION
