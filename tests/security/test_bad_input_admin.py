"""Bad input and access in the Django admin, table-driven, in the style of test_bad_input.py.

The admin is for staff, whom the portal's permission module lets in (`Action.ADMIN_USE`), not
Django's model permissions. Its writable forms are the account (saved through account_create and
account_update), the closeout checklist template (its form and the changelist's editable
columns, saved through the services), the user with their role (Django's UserAdmin, where only a
superuser sees and sets superuser status, groups and permissions, or changes a superuser) and
the Vitally sync's "Retry the push now" action; every other admin is read-only. Most cases are
sent by `staff`, the demo's manager (staff, not a superuser). Each refused case
asserts the admin's own refusal (the message beside the field or on the page, the redirect to
the admin's sign-in, or 403), never a 500, and the database exactly as it was: the domain rows
and also the users, groups, permissions and the admin's log (ADMIN_APPS). The stored cases at
the end assert that what staff type in the admin is shown escaped on the portal's pages."""

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from handoff.accounts.models import Account
from handoff.accounts.services import account_update
from handoff.audit.models import AuditEvent
from handoff.closeout.models import ChecklistTemplateItem, SignOff
from handoff.common.services import ANY_VERSION
from handoff.people.models import User
from tests.factories import AccountFactory, UserFactory
from tests.security.snapshot import ADMIN_APPS, db_snapshot, snapshot_diff
from tests.security.test_bad_input import (
    ACME,
    DATA_URL,
    ESCAPED_SCRIPT,
    IMG,
    JS_URL,
    NUL,
    SCRIPT,
    F,
    T,
    attr,
    u,
)
from tests.security.world import World, people_build, world_build
from vitally_sync.models import AccountSync
from vitally_sync.services import sync_push_request

pytestmark = pytest.mark.django_db

PASSWORD = "Kx7!quartz-lantern-92"
# What a save that ignores a forged field may change: the admin's own log of it, nothing else.
ALL_BUT_THE_LOG = tuple(label for label in ADMIN_APPS if label != "admin")


@dataclass
class AdminWorld(World):
    """The bad-input world, plus the admin's people and rows."""

    staff: User  # the demo's manager: staff, no superuser, no model permission granted
    root: User  # a superuser
    gone: User  # an implementation engineer who left (inactive)
    sync: AccountSync  # Acme's Vitally sync state
    template_item: ChecklistTemplateItem
    group: Group  # a real group and permission, for forging them onto a user
    permission: Permission


@pytest.fixture(scope="module")
def shared_world(module_db) -> AdminWorld:
    people = people_build()
    base = world_build(ie=people["ie"], ta=people["ta"], manager=people["manager"])
    template = ChecklistTemplateItem.objects.filter(is_active=True).order_by("position", "pk")
    return AdminWorld(
        **vars(base),
        staff=UserFactory(username="maya-admin", role=User.Role.MANAGER, is_staff=True),
        root=people["admin_user"],
        gone=UserFactory(username="gone", role=User.Role.IMPLEMENTATION_ENGINEER, is_active=False),
        sync=sync_push_request(account=base.acme, actor=base.manager),
        template_item=template[0],
        group=Group.objects.create(name="Everything"),
        permission=Permission.objects.get(codename="delete_account"),
    )


# --- Valid posts, which each case spoils in one place ------------------------------------------
def account_post(w: AdminWorld, **overrides) -> dict:
    """Acme's admin change form as rendered: posting it unchanged changes nothing."""
    acme = Account.objects.get(pk=w.acme.pk)
    data = {
        "name": acme.name,
        "vitally_account_id": acme.vitally_account_id,
        "crm_url": acme.crm_url,
        "implementation_engineer": str(acme.implementation_engineer_id),
        "technical_advisor": str(acme.technical_advisor_id),
        "manager": str(acme.manager_id),
        "planned_completion_date": str(acme.planned_completion_date or ""),
        "expected_version": str(acme.version),
        "_save": "Save",
    }
    return {**data, **overrides}


def new_account_post(w: AdminWorld, **overrides) -> dict:
    data = account_post(w, name="Brand New Co", vitally_account_id="", crm_url="")
    del data["expected_version"]
    return {**data, **overrides}


def template_post(**overrides) -> dict:
    data = {"title": "Monitoring handed over", "guidance": "", "position": "500"}
    return {**data, "is_active": "on", "_save": "Save", **overrides}


def template_edit_post(w: AdminWorld, **overrides) -> dict:
    item = w.template_item
    data = {"title": item.title, "guidance": item.guidance, "position": str(item.position)}
    return template_post(**{**data, **overrides})


def template_list_post(w: AdminWorld, **overrides) -> dict:
    """The changelist's editable columns (position, active) for every item, as rendered."""
    items = list(ChecklistTemplateItem.objects.order_by("position", "pk"))
    data = {
        "form-TOTAL_FORMS": str(len(items)),
        "form-INITIAL_FORMS": str(len(items)),
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    for index, item in enumerate(items):
        data[f"form-{index}-id"] = str(item.pk)
        data[f"form-{index}-position"] = str(item.position)
        if item.is_active:
            data[f"form-{index}-is_active"] = "on"
    return {**data, **overrides}


def user_add_post(**overrides) -> dict:
    data = {
        "username": "nina",
        "usable_password": "true",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "first_name": "Nina",
        "last_name": "Berg",
        "email": "nina@example.com",
        "role": User.Role.IMPLEMENTATION_ENGINEER,
        "_save": "Save",
    }
    return {**data, **overrides}


def user_post(w: AdminWorld, who: str, **overrides) -> dict:
    """A user's admin change form as rendered (flags as they are)."""
    user = User.objects.get(pk=w.user(who).pk)
    joined = {"date_joined_0": f"{user.date_joined:%Y-%m-%d}"}
    joined["date_joined_1"] = f"{user.date_joined:%H:%M:%S.%f}"
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": user.role,
        **joined,
        **{f"initial-{k}": v for k, v in joined.items()},
        "_save": "Save",
    }
    flags = {
        name: "on" for name in ("is_active", "is_staff", "is_superuser") if getattr(user, name)
    }
    return {**data, **flags, **overrides}


def action_post(*ids: Callable[[AdminWorld], object], action: str = "retry_now"):
    return lambda w: {"action": action, "index": "0", "_selected_action": [str(i(w)) for i in ids]}


def edit_post(w: AdminWorld) -> dict:
    """What someone would post to a read-only admin's change or add form."""
    return {"title": "Rewritten in the admin", "status": "closed", "_save": "Save"}


def admin(model: str, view: str, *args: Callable[[AdminWorld], object]):
    return lambda w: reverse(f"admin:{model}_{view}", args=[a(w) for a in args])


ACCOUNTS = "accounts_account"
TEMPLATE = "closeout_checklisttemplateitem"
USERS = "people_user"
SYNCS = "vitally_sync_accountsync"
SYNC_LIST = admin(SYNCS, "changelist")
ACME_PK = ACME  # Acme's account id is also its sync state's id
UNKNOWN = lambda w: 99999999  # noqa: E731
NOT_AN_ID = lambda w: "abc"  # noqa: E731
HUGE_ID = lambda w: "9" * 30  # noqa: E731


def _audit_event(w: AdminWorld) -> int:
    return AuditEvent.objects.filter(account=w.acme).latest("pk").pk


def _sign_off(w: AdminWorld) -> int:
    return SignOff.objects.filter(account=w.initech).latest("pk").pk


def _edit_acme_in_the_portal(w: AdminWorld) -> None:
    """Someone saves Acme in the portal after the admin form was rendered."""
    account_update(
        account=w.acme, actor=w.ie, data={"name": "Acme Robot"}, expected_version=ANY_VERSION
    )


# --- The table --------------------------------------------------------------------------------
LOGIN = "login"  # redirected to the admin's sign-in
IGNORED = "ignored"  # saved, but what was forged was not written: only the admin's log changed


def NF(words: str) -> tuple[str, str]:  # noqa: N802
    return ("nonfield", words)


@dataclass(frozen=True)
class Case:
    id: str
    as_: str
    url: Callable[[AdminWorld], str]
    data: Callable[[AdminWorld], dict] = lambda w: {}
    # ("field", name): the admin's message beside that field; ("nonfield", words): its message
    # above the form; ("text", words): the page (after any redirect) says so; LOGIN; IGNORED;
    # an int: that status.
    expect: tuple[str, str] | int | str = 403
    prime: bool = False  # send the same request once first and let it succeed
    csrf: str = ""  # "missing" or "wrong"
    # Runs after the form data is taken and before the request (what happened in between).
    meanwhile: Callable[[AdminWorld], None] | None = None


NON_STAFF = ("ie", "ta", "manager")

CASES = [
    # Accounts: bad input to the add and change forms (staff, as the portal's admins).
    Case("account-add-js-crm-url", "staff", admin(ACCOUNTS, "add"),
         lambda w: new_account_post(w, crm_url=JS_URL), F("crm_url")),
    Case("account-add-data-crm-url", "staff", admin(ACCOUNTS, "add"),
         lambda w: new_account_post(w, crm_url=DATA_URL), F("crm_url")),
    Case("account-add-overlong-name", "staff", admin(ACCOUNTS, "add"),
         lambda w: new_account_post(w, name="A" * 201), F("name")),
    Case("account-add-nul-name", "staff", admin(ACCOUNTS, "add"),
         lambda w: new_account_post(w, name=NUL), F("name")),
    Case("account-add-blank-name", "staff", admin(ACCOUNTS, "add"),
         lambda w: new_account_post(w, name="   "), F("name")),
    Case("account-add-duplicate-name", "staff", admin(ACCOUNTS, "add"),
         lambda w: new_account_post(w, name="Globex"), F("name")),
    Case("account-add-ta-as-ie", "staff", admin(ACCOUNTS, "add"),
         lambda w: new_account_post(w, implementation_engineer=str(w.ta.pk)),
         F("implementation_engineer")),
    Case("account-add-double-submit", "staff", admin(ACCOUNTS, "add"), new_account_post,
         F("name"), prime=True),
    Case("account-edit-ie-as-manager", "staff", admin(ACCOUNTS, "change", ACME),
         lambda w: account_post(w, manager=str(w.ie.pk)), F("manager")),
    Case("account-edit-manager-as-ta", "staff", admin(ACCOUNTS, "change", ACME),
         lambda w: account_post(w, technical_advisor=str(w.manager.pk)), F("technical_advisor")),
    Case("account-edit-inactive-ie", "staff", admin(ACCOUNTS, "change", ACME),
         lambda w: account_post(w, implementation_engineer=str(w.gone.pk)),
         F("implementation_engineer")),
    Case("account-edit-unknown-person", "staff", admin(ACCOUNTS, "change", ACME),
         lambda w: account_post(w, manager="99999999"), F("manager")),
    Case("account-edit-non-numeric-person", "staff", admin(ACCOUNTS, "change", ACME),
         lambda w: account_post(w, manager="maya"), F("manager")),
    Case("account-edit-impossible-date", "staff", admin(ACCOUNTS, "change", ACME),
         lambda w: account_post(w, planned_completion_date="2026-02-30"),
         F("planned_completion_date")),
    Case("account-edit-non-date", "staff", admin(ACCOUNTS, "change", ACME),
         lambda w: account_post(w, planned_completion_date="next spring"),
         F("planned_completion_date")),
    Case("account-edit-bad-vitally-id", "staff", admin(ACCOUNTS, "change", ACME),
         lambda w: account_post(w, vitally_account_id="acme/../../admin"),
         F("vitally_account_id")),
    Case("account-edit-vitally-id-of-another", "staff", admin(ACCOUNTS, "change", ACME),
         lambda w: account_post(w, vitally_account_id=w.globex.vitally_account_id),
         NF("Another account is already linked to this Vitally id")),
    Case("account-edit-odd-unicode-crm-url", "staff", admin(ACCOUNTS, "change", ACME),
         lambda w: account_post(w, crm_url="https://crm.example.com/\u202eexe.gpj\x00"),
         F("crm_url")),
    Case("account-edit-forged-phase", "staff", admin(ACCOUNTS, "change", ACME),
         lambda w: account_post(w, phase=Account.Phase.HANDED_OFF), IGNORED),
    Case("account-edit-forged-versions", "staff", admin(ACCOUNTS, "change", ACME),
         lambda w: account_post(w, version="99", change_version="99", changed_at="2020-01-01"),
         IGNORED),
    Case("account-edit-stale-form", "staff", admin(ACCOUNTS, "change", ACME),
         lambda w: account_post(w, name="Acme Robotics Inc"),
         NF("Someone else saved this account"), meanwhile=_edit_acme_in_the_portal),
    Case("account-edit-double-submit", "staff", admin(ACCOUNTS, "change", ACME),
         lambda w: account_post(w, name="Acme Robotics Inc"),
         NF("Someone else saved this account"), prime=True),
    Case("account-edit-without-version", "staff", admin(ACCOUNTS, "change", ACME),
         lambda w: account_post(w, name="Acme Robotics Inc", expected_version=""),
         NF("This form was sent without its version, so nothing was saved")),
    Case("account-edit-mangled-version", "staff", admin(ACCOUNTS, "change", ACME),
         lambda w: account_post(w, name="Acme Robotics Inc", expected_version="one"),
         NF("Someone else saved this account")),
    # Nobody deletes an account, not even a superuser.
    Case("account-delete", "root", admin(ACCOUNTS, "delete", ACME), lambda w: {"post": "yes"}),
    Case("account-delete-by-staff", "staff", admin(ACCOUNTS, "delete", ACME),
         lambda w: {"post": "yes"}),
    # The list has no action to run: the post just shows the list (no "Are you sure?").
    Case("accounts-delete-selected-by-staff", "staff", admin(ACCOUNTS, "changelist"),
         action_post(ACME_PK, action="delete_selected"), T("Select account to change")),
    *[Case(f"account-add-as-{who}", who, admin(ACCOUNTS, "add"), new_account_post, LOGIN)
      for who in NON_STAFF],
    *[Case(f"account-edit-as-{who}", who, admin(ACCOUNTS, "change", ACME),
           lambda w: account_post(w, name="Mine now"), LOGIN) for who in NON_STAFF],
    Case("account-edit-csrf-missing", "root", admin(ACCOUNTS, "change", ACME),
         lambda w: account_post(w, name="Acme Robotics Inc"), 403, csrf="missing"),
    Case("account-edit-csrf-wrong", "root", admin(ACCOUNTS, "change", ACME),
         lambda w: account_post(w, name="Acme Robotics Inc"), 403, csrf="wrong"),
    # The closeout checklist template: its form and the changelist's editable columns (staff).
    Case("template-add-blank-title", "staff", admin(TEMPLATE, "add"),
         lambda w: template_post(title="   "), F("title")),
    Case("template-add-overlong-title", "staff", admin(TEMPLATE, "add"),
         lambda w: template_post(title="t" * 201), F("title")),
    Case("template-add-nul-title", "staff", admin(TEMPLATE, "add"),
         lambda w: template_post(title=NUL), F("title")),
    Case("template-add-negative-position", "staff", admin(TEMPLATE, "add"),
         lambda w: template_post(position="-1"), F("position")),
    Case("template-add-huge-position", "staff", admin(TEMPLATE, "add"),
         lambda w: template_post(position="9" * 12), F("position")),
    Case("template-add-non-numeric-position", "staff", admin(TEMPLATE, "add"),
         lambda w: template_post(position="first"), F("position")),
    Case("template-add-title-of-an-active-item", "staff", admin(TEMPLATE, "add"),
         lambda w: template_post(title=w.template_item.title), F("title")),
    Case("template-add-double-submit", "staff", admin(TEMPLATE, "add"),
         lambda w: template_post(), F("title"), prime=True),
    Case("template-edit-nul-guidance", "staff", admin(TEMPLATE, "change", attr("template_item")),
         lambda w: template_edit_post(w, guidance="a\x00b"), F("guidance")),
    Case("template-edit-to-a-taken-title", "staff",
         admin(TEMPLATE, "change", attr("template_item")),
         lambda w: template_edit_post(w, title="Indexing"), F("title")),
    Case("template-list-negative-position", "staff", admin(TEMPLATE, "changelist"),
         lambda w: template_list_post(w, **{"form-0-position": "-5"}), F("form-0-position")),
    Case("template-list-non-numeric-position", "staff", admin(TEMPLATE, "changelist"),
         lambda w: template_list_post(w, **{"form-0-position": "x"}), F("form-0-position")),
    Case("template-list-forged-id", "staff", admin(TEMPLATE, "changelist"),
         lambda w: template_list_post(w, **{"form-0-id": "99999999", "form-0-position": "1"}),
         T("Please correct the error")),
    Case("template-list-non-numeric-id", "staff", admin(TEMPLATE, "changelist"),
         lambda w: template_list_post(w, **{"form-0-id": "abc", "form-0-position": "1"}),
         T("Please correct the error")),
    Case("template-list-too-many-rows", "staff", admin(TEMPLATE, "changelist"),
         lambda w: template_list_post(w, **{"form-TOTAL_FORMS": "5000"}),
         T("Please submit at most 1000 forms")),
    Case("template-delete", "staff", admin(TEMPLATE, "delete", attr("template_item")),
         lambda w: {"post": "yes"}),
    *[Case(f"template-add-as-{who}", who, admin(TEMPLATE, "add"), lambda w: template_post(),
           LOGIN) for who in NON_STAFF],
    *[Case(f"template-list-as-{who}", who, admin(TEMPLATE, "changelist"),
           lambda w: template_list_post(w, **{"form-0-position": "1"}), LOGIN)
      for who in NON_STAFF],
    Case("template-add-csrf-missing", "staff", admin(TEMPLATE, "add"),
         lambda w: template_post(), 403, csrf="missing"),
    Case("template-list-csrf-wrong", "staff", admin(TEMPLATE, "changelist"),
         lambda w: template_list_post(w, **{"form-0-position": "1"}), 403, csrf="wrong"),
    # Users and their roles (staff; groups and permissions only a superuser sees).
    Case("user-add-invalid-role", "staff", admin(USERS, "add"),
         lambda w: user_add_post(role="superhero"), F("role")),
    Case("user-add-overlong-username", "staff", admin(USERS, "add"),
         lambda w: user_add_post(username="n" * 151), F("username")),
    Case("user-add-script-username", "staff", admin(USERS, "add"),
         lambda w: user_add_post(username=SCRIPT), F("username")),
    Case("user-add-nul-first-name", "staff", admin(USERS, "add"),
         lambda w: user_add_post(first_name=NUL), F("first_name")),
    # A bidi override reorders what follows the name (tests/security/test_control_characters.py).
    Case("user-change-rtl-override-last-name", "staff", admin(USERS, "change", attr("ie")),
         lambda w: user_post(w, "ie", last_name="\u202eadnuk"), F("last_name")),
    Case("user-change-newline-first-name", "staff", admin(USERS, "change", attr("ie")),
         lambda w: user_post(w, "ie", first_name="Irene\nBcc: x@example.com"), F("first_name")),
    Case("user-add-invalid-email", "staff", admin(USERS, "add"),
         lambda w: user_add_post(email="nina@"), F("email")),
    Case("user-add-passwords-differ", "staff", admin(USERS, "add"),
         lambda w: user_add_post(password2=PASSWORD + "x"), F("password2")),
    Case("user-add-taken-username", "staff", admin(USERS, "add"),
         lambda w: user_add_post(username=w.ie.username), F("username")),
    Case("user-add-double-submit", "staff", admin(USERS, "add"), lambda w: user_add_post(),
         F("username"), prime=True),
    Case("user-edit-invalid-role", "staff", admin(USERS, "change", attr("ie")),
         lambda w: user_post(w, "ie", role="admin"), F("role")),
    Case("user-edit-overlong-last-name", "staff", admin(USERS, "change", attr("ie")),
         lambda w: user_post(w, "ie", last_name="l" * 151), F("last_name")),
    Case("user-edit-impossible-date-joined", "staff", admin(USERS, "change", attr("ie")),
         lambda w: user_post(w, "ie", date_joined_0="2026-02-30"), F("date_joined")),
    Case("user-edit-unknown-group", "root", admin(USERS, "change", attr("ie")),
         lambda w: user_post(w, "ie", groups="99999999"), F("groups")),
    Case("user-edit-forged-permission", "root", admin(USERS, "change", attr("ie")),
         lambda w: user_post(w, "ie", user_permissions="99999999"), F("user_permissions")),
    Case("users-action-not-an-id", "root", admin(USERS, "changelist"),
         action_post(NOT_AN_ID, action="delete_selected"), T("The selection is not valid")),
    # Escalation. Staff's forms have no superuser, groups or permissions fields: a forged post
    # of them saves the rest (unchanged) and grants nothing.
    Case("user-staff-makes-self-superuser", "staff", admin(USERS, "change", attr("staff")),
         lambda w: user_post(w, "staff", is_superuser="on"), IGNORED),
    Case("user-staff-grants-self-group-and-permission", "staff",
         admin(USERS, "change", attr("staff")),
         lambda w: user_post(w, "staff", groups=str(w.group.pk),
                             user_permissions=str(w.permission.pk)), IGNORED),
    Case("user-staff-makes-ie-superuser", "staff", admin(USERS, "change", attr("ie")),
         lambda w: user_post(w, "ie", is_superuser="on", groups=str(w.group.pk),
                             user_permissions=str(w.permission.pk)), IGNORED),
    # A superuser's account is a superuser's to change: staff read it, and are refused a save,
    # a password reset and a deactivation of it.
    Case("user-staff-edits-a-superuser", "staff", admin(USERS, "change", attr("root")),
         lambda w: user_post(w, "root", first_name="Demoted")),
    Case("user-staff-deactivates-a-superuser", "staff", admin(USERS, "change", attr("root")),
         lambda w: {k: v for k, v in user_post(w, "root").items()
                    if k not in ("is_active", "is_staff", "is_superuser")}),
    Case("user-staff-resets-a-superusers-password", "staff",
         lambda w: reverse("admin:auth_user_password_change", args=[w.root.pk]),
         lambda w: {"usable_password": "true", "password1": PASSWORD, "password2": PASSWORD}),
    # Staff deactivate people; only a superuser deletes one.
    Case("user-staff-deletes-a-user", "staff", admin(USERS, "delete", attr("ie")),
         lambda w: {"post": "yes"}),
    Case("users-staff-delete-selected", "staff", admin(USERS, "changelist"),
         action_post(attr("ie"), action="delete_selected"), T("Select user to change")),
    # Everyone who is not staff.
    *[Case(f"user-{who}-makes-self-staff", who, admin(USERS, "change", attr(who)),
           lambda w, who=who: user_post(w, who, is_staff="on", is_superuser="on"), LOGIN)
      for who in NON_STAFF],
    Case("user-edit-csrf-missing", "staff", admin(USERS, "change", attr("ie")),
         lambda w: user_post(w, "ie", is_staff="on"), 403, csrf="missing"),
    # The Vitally sync: "Retry the push now" (staff), and its read-only form.
    Case("sync-retry-unknown-id", "staff", SYNC_LIST, action_post(UNKNOWN),
         T("Asked the workers to push 0 account(s) now")),
    Case("sync-retry-not-an-id", "staff", SYNC_LIST, action_post(NOT_AN_ID),
         T("The selection is not valid")),
    Case("sync-retry-huge-id", "staff", SYNC_LIST, action_post(HUGE_ID),
         T("Asked the workers to push 0 account(s) now")),
    Case("sync-retry-nothing-selected", "staff", SYNC_LIST, action_post(),
         T("Items must be selected")),
    Case("sync-forged-delete-action", "staff", SYNC_LIST,
         action_post(ACME_PK, action="delete_selected"), T("No action selected")),
    Case("sync-forged-unknown-action", "staff", SYNC_LIST,
         action_post(ACME_PK, action="drop_everything"), T("No action selected")),
    Case("sync-save-read-only-form", "staff", admin(SYNCS, "change", ACME_PK),
         lambda w: {"status": "synced", "acked_version": "999", "_save": "Save"}),
    *[Case(f"sync-retry-as-{who}", who, SYNC_LIST, action_post(ACME_PK), LOGIN)
      for who in NON_STAFF],
    Case("sync-retry-csrf-missing", "staff", SYNC_LIST, action_post(ACME_PK), 403,
         csrf="missing"),
    Case("sync-retry-csrf-wrong", "staff", SYNC_LIST, action_post(ACME_PK), 403, csrf="wrong"),
    # Read-only admins refuse add, change and delete posts, even from a superuser.
    Case("sync-add", "root", admin(SYNCS, "add"), lambda w: {"account": str(w.globex.pk)}),
    Case("sync-delete", "root", admin(SYNCS, "delete", ACME_PK), lambda w: {"post": "yes"}),
    Case("audit-change", "root", admin("audit_auditevent", "change", _audit_event),
         lambda w: {"message": "Nothing happened", "_save": "Save"}),
    Case("audit-add", "root", admin("audit_auditevent", "add"), edit_post),
    Case("audit-delete", "root", admin("audit_auditevent", "delete", _audit_event),
         lambda w: {"post": "yes"}),
    Case("sign-off-change", "staff", admin("closeout_signoff", "change", _sign_off),
         lambda w: {"override_reason": "Rewritten", "_save": "Save"}),
    Case("sign-off-delete", "root", admin("closeout_signoff", "delete", _sign_off),
         lambda w: {"post": "yes"}),
    Case("reminder-add", "staff", admin("closeout_completionreminder", "add"),
         lambda w: {"account": str(w.acme.pk), "planned_completion_date": "2026-06-30"}),
    Case("environment-change", "root",
         admin("deployments_environment", "change", attr("production")),
         lambda w: {"total_cpu": "1", "_save": "Save"}),
    Case("code-host-delete", "root",
         admin("deployments_codehostconnection", "delete", attr("code_host")),
         lambda w: {"post": "yes"}),
    Case("journal-change", "root", admin("logs_journalentry", "change", attr("entry")),
         edit_post),
    Case("issue-change", "root", admin("logs_issue", "change", attr("issue")), edit_post),
    Case("risk-delete", "root", admin("logs_risk", "delete", attr("risk")),
         lambda w: {"post": "yes"}),
    Case("opportunity-add", "root", admin("logs_expansionopportunity", "add"), edit_post),
    # ... and from staff, who may read them.
    Case("audit-change-by-staff", "staff", admin("audit_auditevent", "change", _audit_event),
         lambda w: {"message": "Nothing happened", "_save": "Save"}),
    Case("audit-delete-by-staff", "staff", admin("audit_auditevent", "delete", _audit_event),
         lambda w: {"post": "yes"}),
    Case("environment-change-by-staff", "staff",
         admin("deployments_environment", "change", attr("production")),
         lambda w: {"total_cpu": "1", "_save": "Save"}),
    Case("issue-change-by-staff", "staff", admin("logs_issue", "change", attr("issue")),
         edit_post),
    Case("opportunity-add-by-staff", "staff", admin("logs_expansionopportunity", "add"),
         edit_post),
    Case("sync-delete-by-staff", "staff", admin(SYNCS, "delete", ACME_PK),
         lambda w: {"post": "yes"}),
]  # fmt: skip


def _send(client: Client, case: Case, url: str, data: dict):
    if case.csrf == "wrong":
        # A real CSRF cookie, and a token in the form that does not match it.
        client.get(reverse("admin:login"))
        data = {**data, "csrfmiddlewaretoken": "x" * 64}
    return client.post(url, data)


def _assert_refused(case: Case, response, client: Client) -> None:
    expect = case.expect
    if isinstance(expect, int):
        assert response.status_code == expect, response.content.decode()[:2000]
        return
    if expect == LOGIN:
        assert response.status_code == 302, response.status_code
        assert response["Location"].startswith(reverse("admin:login") + "?next="), response[
            "Location"
        ]
        return
    if expect == IGNORED:
        assert response.status_code == 302, re.findall(
            r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.content.decode()
        )
        return
    kind, what = expect
    if response.status_code == 302:
        response = client.get(response["Location"])
    assert response.status_code == 200, response.status_code
    page = response.content.decode()
    if kind == "field":
        assert 'class="errornote"' in page, "the admin says nothing is saved"
        assert re.search(rf'<ul class="errorlist" id="id_{re.escape(what)}_error"><li>', page), (
            f"no message beside {what}: " + str(re.findall(r'class="errorlist.*?</ul>', page))
        )
    elif kind == "nonfield":
        errors = re.findall(r'<ul class="errorlist nonfield">(.*?)</ul>', page, re.S)
        assert any(what in e for e in errors), f"{what!r} not among {errors}"
    else:
        assert what in page, f"{what!r} not on the page"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_admin_bad_input_is_refused_and_changes_nothing(case: Case, world: AdminWorld):
    client = Client(enforce_csrf_checks=bool(case.csrf))
    client.force_login(world.user(case.as_))
    url, data = case.url(world), case.data(world)
    if case.prime:
        first = client.post(url, data)
        assert first.status_code == 302, re.findall(
            r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', first.content.decode()
        )
    if case.meanwhile:
        case.meanwhile(world)
    # A forged read-only field is ignored, not refused: the save goes through (and the admin
    # logs it), so everything but the admin's log must be as it was.
    watched = ALL_BUT_THE_LOG if case.expect == IGNORED else ADMIN_APPS
    before = db_snapshot(watched)
    response = _send(client, case, url, data)
    assert response.status_code != 500
    _assert_refused(case, response, client)
    changed = snapshot_diff(before, db_snapshot(watched))
    assert not changed, f"{case.id} changed the database: {changed}"


def test_the_admin_table_covers_every_writable_admin():
    assert len({c.id for c in CASES}) == len(CASES)
    urls = {c.id.split("-")[0] for c in CASES}
    assert {"account", "template", "user", "sync"} <= urls
    for who in NON_STAFF:
        refused = {c.id.split("-")[0] for c in CASES if c.as_ == who and c.expect == LOGIN}
        assert refused == {"account", "template", "user", "sync"}, who
    assert {c.id.split("-")[0] for c in CASES if c.csrf} == {"account", "template", "user", "sync"}


def test_the_valid_posts_the_cases_spoil_are_accepted(world: AdminWorld):
    """Each table's base post saves, so a refusal above is the spoilt field's doing."""
    root, staff = Client(), Client()
    root.force_login(world.root)
    staff.force_login(world.staff)
    posts = [
        (staff, reverse("admin:accounts_account_add"), new_account_post(world)),
        (staff, reverse("admin:accounts_account_change", args=[world.acme.pk]),
         account_post(world, name="Acme Robotics Inc")),
        (staff, reverse("admin:closeout_checklisttemplateitem_add"), template_post()),
        (staff, reverse("admin:closeout_checklisttemplateitem_change",
                        args=[world.template_item.pk]),
         template_edit_post(world, position="5")),
        (staff, reverse("admin:closeout_checklisttemplateitem_changelist"),
         template_list_post(world, **{"form-0-position": "1"})),
        (staff, reverse("admin:people_user_add"), user_add_post()),
        (staff, reverse("admin:people_user_change", args=[world.ie.pk]),
         user_post(world, "ie", first_name="Irena", is_staff="on")),
        (staff, reverse("admin:auth_user_password_change", args=[world.ta.pk]),
         {"usable_password": "true", "password1": PASSWORD, "password2": PASSWORD}),
        (root, reverse("admin:people_user_change", args=[world.ta.pk]),
         user_post(world, "ta", groups=str(world.group.pk),
                   user_permissions=str(world.permission.pk))),
        (staff, reverse("admin:vitally_sync_accountsync_changelist"),
         action_post(ACME_PK)(world)),
    ]  # fmt: skip
    for client, url, data in posts:
        response = client.post(url, data)
        assert response.status_code == 302, (url, response.content.decode()[:3000])
    assert Account.objects.get(pk=world.acme.pk).name == "Acme Robotics Inc"
    assert Account.objects.filter(name="Brand New Co").exists()
    assert ChecklistTemplateItem.objects.get(pk=world.template_item.pk).position == 1
    assert ChecklistTemplateItem.objects.filter(title="Monitoring handed over").exists()
    assert User.objects.get(username="nina").role == User.Role.IMPLEMENTATION_ENGINEER
    irene = User.objects.get(pk=world.ie.pk)
    assert (irene.first_name, irene.is_staff, irene.is_superuser) == ("Irena", True, False)
    tomas = User.objects.get(pk=world.ta.pk)
    assert tomas.check_password(PASSWORD)
    assert list(tomas.groups.all()) == [world.group]
    assert list(tomas.user_permissions.all()) == [world.permission]
    assert AccountSync.objects.get(pk=world.acme.pk).push_requested


# --- Stored through the admin, then shown escaped on the portal -------------------------------
@dataclass(frozen=True)
class Stored:
    id: str
    as_: str
    url: Callable[[AdminWorld], str]
    data: Callable[[AdminWorld], dict]
    page: Callable[[AdminWorld], str]  # the portal page that shows it (may act first)
    shown: str = ESCAPED_SCRIPT
    absent: str = SCRIPT
    viewer: str = "manager"


def _new_checklist_page(w: AdminWorld) -> str:
    """A new account starts its checklist from the template staff just edited."""
    fresh = AccountFactory(name="Fresh Start", implementation_engineer=w.ie, manager=w.manager)
    client = Client()
    client.force_login(w.ie)
    assert client.post(reverse("closeout:checklist_start", args=[fresh.pk])).status_code == 302
    return reverse("accounts:detail", args=[fresh.pk])


QUOTE_BREAKOUT_URL = 'https://crm.example.com/x"><script>alert(1)</script>'

STORED = [
    Stored("account-name-on-dashboard", "staff", admin(ACCOUNTS, "add"),
           lambda w: new_account_post(w, name=f"New {SCRIPT}"),
           lambda w: reverse("accounts:dashboard")),
    Stored("account-name-attribute-breakout", "staff", admin(ACCOUNTS, "change", ACME),
           lambda w: account_post(w, name=f"Acme {IMG}"), u("accounts:detail", ACME),
           shown="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;", absent="<img src=x"),
    Stored("account-crm-url-quote-breakout", "staff", admin(ACCOUNTS, "change", ACME),
           lambda w: account_post(w, crm_url=QUOTE_BREAKOUT_URL), u("accounts:detail", ACME),
           shown='href="https://crm.example.com/x&quot;&gt;&lt;script&gt;',
           absent='"><script>'),
    Stored("user-first-name-on-account", "staff", admin(USERS, "change", attr("ie")),
           lambda w: user_post(w, "ie", first_name=SCRIPT), u("accounts:detail", ACME)),
    Stored("user-last-name-on-dashboard", "staff", admin(USERS, "change", attr("ta")),
           lambda w: user_post(w, "ta", last_name=SCRIPT), lambda w: reverse("accounts:dashboard")),
    Stored("user-name-rtl-and-zero-width", "staff", admin(USERS, "change", attr("ie")),
           lambda w: user_post(w, "ie", first_name="Ir\u200bene", last_name="כהן"),
           u("accounts:detail", ACME), shown="Ir\u200bene כהן", absent="<script>"),
    Stored("template-title-on-checklist", "staff", admin(TEMPLATE, "add"),
           lambda w: template_post(title=SCRIPT), _new_checklist_page),
    Stored("template-guidance-on-checklist", "staff",
           admin(TEMPLATE, "change", attr("template_item")),
           lambda w: template_edit_post(w, guidance=f"See {SCRIPT}"), _new_checklist_page),
    Stored("template-title-emoji", "staff", admin(TEMPLATE, "add"),
           lambda w: template_post(title="Runbook 📘 handed\u200bover"), _new_checklist_page,
           shown="Runbook 📘 handed\u200bover", absent="<script>"),
]  # fmt: skip


@pytest.mark.parametrize("case", STORED, ids=[c.id for c in STORED])
def test_what_staff_store_in_the_admin_is_shown_escaped(case: Stored, world: AdminWorld):
    client = Client()
    client.force_login(world.user(case.as_))
    response = client.post(case.url(world), case.data(world))
    assert response.status_code == 302, re.findall(
        r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.content.decode()
    )
    url = case.page(world)
    client.force_login(world.user(case.viewer))
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert case.absent not in html
    assert SCRIPT not in html and 'href="javascript:' not in html
    assert case.shown in html
