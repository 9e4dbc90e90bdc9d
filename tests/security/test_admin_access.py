"""Who may use the admin, with the demo data: the portal's admins are its staff.

The demo's `manager` (staff, not a superuser, no Django group or permission) signs in with the
demo password and uses every portal admin: the index, each list and a row of each, and the
people admin, where they create someone with a role, set their flags and reset their password.
What only a superuser may do there (superuser status, groups, permissions, a superuser's
account, deleting people) is neither shown to them nor done for them. Forged posts of each are
in test_bad_input_admin.py."""

import copy
import io
import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from handoff.accounts.demo import DEMO_PASSWORD
from handoff.people.models import User
from tests.factories import UserFactory
from tests.security.world import admin_and_template_build
from vitally_sync.models import AccountSync

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Kx7!quartz-lantern-92"
# Django's own, which grant its model permissions: for superusers only, like the fields below.
SUPERUSER_ONLY_MODELS = {Group}
SUPERUSER_ONLY_FIELDS = ("is_superuser", "groups", "user_permissions")


@pytest.fixture(scope="module")
def shared_demo(module_db) -> User:
    """The demo, seeded once for the module (tests/security/conftest.py)."""
    admin_and_template_build()
    call_command("seed_demo", stdout=io.StringIO())
    # The day's e-mails, so that the reminders' and digests' admins have rows too.
    call_command("completion_reminders_send", stdout=io.StringIO())
    call_command("stale_digests_send", stdout=io.StringIO())
    manager = User.objects.get(username="manager")
    # What the problem was: the demo's admin has no model permission and is no superuser.
    assert (manager.is_staff, manager.is_superuser) == (True, False)
    assert not manager.get_all_permissions()
    return manager


@pytest.fixture
def demo(shared_demo) -> User:
    return copy.deepcopy(shared_demo)


@pytest.fixture
def manager_client(demo) -> Client:
    client = Client()
    assert client.login(username="manager", password=DEMO_PASSWORD)
    return client


def portal_models():
    return [model for model in admin.site._registry if model not in SUPERUSER_ONLY_MODELS]


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_the_demo_manager_sees_every_portal_admin_on_the_index(manager_client):
    response = manager_client.get(reverse("admin:index"))
    assert response.status_code == 200
    listed = {model["model"] for app in response.context["app_list"] for model in app["models"]}
    # The sync states' list is left to the portal's Vitally sync page (its rows stay readable).
    assert listed == set(portal_models()) - {AccountSync}
    assert len(listed) == 16


@pytest.mark.parametrize("model", portal_models(), ids=lambda m: m._meta.label)
def test_the_demo_manager_opens_each_list_and_a_row_of_it(manager_client, model):
    response = manager_client.get(_url(model, "changelist"))
    assert response.status_code == 200
    rows = list(response.context["cl"].result_list)
    assert rows, "the demo data has rows of every model, and the list shows them"
    assert _url(model, "change", rows[0].pk) in response.content.decode()
    change = manager_client.get(_url(model, "change", rows[0].pk))
    assert change.status_code == 200
    # Inlines too (an environment's design documents and instance rows, an issue's updates).
    assert len(change.context["inline_admin_formsets"]) == len(admin.site._registry[model].inlines)


def test_groups_stay_with_superusers(manager_client):
    assert manager_client.get(_url(Group, "changelist")).status_code == 403


def test_the_nav_links_the_admin_for_staff_only(manager_client, demo):
    assert 'href="/admin/"' in manager_client.get(reverse("accounts:dashboard")).content.decode()
    ie = Client()
    assert ie.login(username="ie", password=DEMO_PASSWORD)
    assert 'href="/admin/"' not in ie.get(reverse("accounts:dashboard")).content.decode()


@pytest.mark.parametrize("username", ["ie", "ta", "non-staff-manager"])
def test_people_who_are_not_staff_get_the_admins_sign_in(demo, username):
    if username == "non-staff-manager":
        UserFactory(username=username, role=User.Role.MANAGER, password=DEMO_PASSWORD)
    client = Client()
    assert client.login(username=username, password=DEMO_PASSWORD)
    for url in [reverse("admin:index"), reverse("admin:people_user_add")]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_the_demo_manager_creates_someone_with_a_role_and_manages_them(manager_client):
    add = reverse("admin:people_user_add")
    form = manager_client.get(add).content.decode()
    assert 'name="role"' in form
    assert not any(f'name="{name}"' in form for name in SUPERUSER_ONLY_FIELDS)
    group = Group.objects.create(name="Everything")
    permission = Permission.objects.get(codename="delete_user")
    response = manager_client.post(
        add,
        {
            "username": "nina",
            "usable_password": "true",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "first_name": "Nina",
            "last_name": "Berg",
            "email": "nina@example.com",
            "role": User.Role.TECHNICAL_ADVISOR,
            # Forged: not on the staff's form, so not granted.
            "is_superuser": "on",
            "groups": str(group.pk),
            "user_permissions": str(permission.pk),
        },
    )
    assert response.status_code == 302
    nina = User.objects.get(username="nina")
    assert (nina.get_full_name(), nina.email, nina.role) == (
        "Nina Berg",
        "nina@example.com",
        User.Role.TECHNICAL_ADVISOR,
    )
    assert (nina.is_active, nina.is_staff, nina.is_superuser) == (True, False, False)
    assert not nina.groups.exists() and not nina.user_permissions.exists()

    change = reverse("admin:people_user_change", args=[nina.pk])
    page = manager_client.get(change).content.decode()
    assert 'name="is_staff"' in page and 'name="is_active"' in page
    assert not any(f'name="{name}"' in page for name in SUPERUSER_ONLY_FIELDS)
    response = manager_client.post(
        change,
        {
            "username": "nina",
            "first_name": "Nina",
            "last_name": "Berg-Lund",
            "email": "nina.lund@example.com",
            "role": User.Role.MANAGER,
            "is_active": "on",
            "is_staff": "on",
            "date_joined_0": f"{nina.date_joined:%Y-%m-%d}",
            "date_joined_1": f"{nina.date_joined:%H:%M:%S}",
        },
    )
    assert response.status_code == 302
    nina.refresh_from_db()
    assert (nina.last_name, nina.email, nina.role, nina.is_staff, nina.is_superuser) == (
        "Berg-Lund",
        "nina.lund@example.com",
        User.Role.MANAGER,
        True,
        False,
    )

    response = manager_client.post(
        reverse("admin:auth_user_password_change", args=[nina.pk]),
        {"usable_password": "true", "password1": "An0ther!lantern", "password2": "An0ther!lantern"},
    )
    assert response.status_code == 302
    assert Client().login(username="nina", password="An0ther!lantern")


def test_a_superusers_account_is_read_only_for_staff(manager_client, admin_user):
    url = reverse("admin:people_user_change", args=[admin_user.pk])
    response = manager_client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="_save"' not in page  # read-only
    assert not any(f'name="{name}"' in page for name in SUPERUSER_ONLY_FIELDS)
    password = reverse("admin:auth_user_password_change", args=[admin_user.pk])
    assert manager_client.get(password).status_code == 403


def test_superusers_see_and_set_what_staff_cannot(admin_user, demo):
    root = Client()
    root.force_login(admin_user)
    page = root.get(reverse("admin:people_user_change", args=[demo.pk])).content.decode()
    assert all(f'name="{name}"' in page for name in SUPERUSER_ONLY_FIELDS)
    assert root.get(_url(Group, "changelist")).status_code == 200


def test_staff_delete_nothing_not_even_people(manager_client):
    for model in portal_models():
        row = model._default_manager.order_by("pk").first()
        assert manager_client.get(_url(model, "delete", row.pk)).status_code == 403, model
        changelist = manager_client.get(_url(model, "changelist")).content.decode()
        assert not re.search(r'<option value="delete_selected"', changelist), model


def test_the_admin_site_asks_the_permission_module_who_may_sign_in(monkeypatch, admin_user):
    """One decider: the admin's own sign-in gate is `can(user, ADMIN_USE)`, not Django's
    `is_staff` test, so changing the rule in handoff/permissions.py changes the gate too."""
    from handoff import permissions

    client = Client()
    client.force_login(admin_user)
    assert client.get(reverse("admin:index")).status_code == 200
    monkeypatch.setitem(
        permissions._RULES, permissions.Action.ADMIN_USE, lambda user, account: False
    )
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
