"""Issue 12: a CR/LF in an account name was stored, and then every e-mail about the account
failed (Django refuses the header). One-line fields now refuse line breaks, tabs, other control
characters and bidi overrides; multi-line fields keep line breaks and tabs and refuse the other
control characters (NUL among them, which PostgreSQL refuses in text). The message is beside
the field, and the database is as it was, in the portal, the admin and the services alike."""

import importlib
import inspect
import re

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from handoff.accounts.services import account_update
from handoff.common.forms import FilterForm, PlainTextFormMixin
from handoff.common.services import ANY_VERSION
from logs.services import issue_create
from tests.factories import UserFactory
from tests.security.snapshot import ADMIN_APPS, db_snapshot, snapshot_diff
from tests.security.test_bad_input import (
    ACME,
    INITECH,
    UMBRELLA,
    account_post,
    attr,
    entry_post,
    env_post,
    host_post,
    issue_post,
    item_post,
    new_account_post,
    opportunity_post,
    prod_post,
    risk_post,
    u,
)
from tests.security.test_bad_input_admin import account_post as admin_account_post

pytestmark = pytest.mark.django_db

SINGLE_LINE_REFUSED = {
    "crlf": "Acme\r\nBcc: everyone@example.com",
    "lf": "Acme\nRobotics",
    "cr": "Acme\rRobotics",
    "tab": "Acme\tRobotics",
    "nul": "Acme\x00Robotics",
    "bell": "Acme\x07Robotics",
    "escape": "Acme\x1b[31mRobotics",
    "c1-next-line": "Acme\x85Robotics",
    "line-separator": "Acme\u2028Robotics",
    "rtl-override": "Invoice \u202egpj.exe",
    "rtl-isolate": "Acme \u2067Robotics\u2069",
}
MULTI_LINE_REFUSED = {k: SINGLE_LINE_REFUSED[k] for k in ("nul", "bell", "escape", "c1-next-line")}
MULTI_LINE_KEPT = "First line\r\nSecond\tline\n\nThird line"


# (id, url, valid post(w, **overrides), field as posted, its error id when it differs)
SINGLE_LINE_FIELDS = [
    ("account-create-name", u("accounts:create"), new_account_post, "name", None),
    ("account-edit-name", u("accounts:edit", ACME), account_post, "name", None),
    ("account-edit-vitally-id", u("accounts:edit", ACME), account_post, "vitally_account_id",
     None),
    ("production-version", u("deployments:production_edit", ACME),
     lambda w, **o: prod_post(w, **o), "sourcegraph_version", None),
    ("production-document-title", u("deployments:production_edit", ACME),
     lambda w, **o: prod_post(w, **o), "documents-0-title", None),
    ("production-instance-type", u("deployments:production_edit", ACME),
     lambda w, **o: prod_post(w, **o), "instances-0-instance_type", None),
    ("environment-name", u("deployments:environment_create", ACME),
     lambda w, **o: env_post(kind="other", **o), "name", None),
    ("code-host-name", u("deployments:code_hosts_edit", ACME),
     lambda w, **o: host_post(**{k.removeprefix("codehosts-0-"): v for k, v in o.items()}),
     "codehosts-0-display_name", None),
    ("journal-title", u("logs:journal_create", ACME), lambda w, **o: entry_post(**o), "title",
     None),
    ("issue-title", u("logs:issue_create", ACME), issue_post, "title", None),
    ("issue-edit-title", u("logs:issue_edit", ACME, attr("issue")),
     lambda w, **o: issue_post(w, status="open", version="1", **o), "title", None),
    ("risk-title", u("logs:risk_create", ACME), risk_post, "title", None),
    ("opportunity-title", u("logs:opportunity_create", ACME), opportunity_post, "title", None),
]  # fmt: skip

MULTI_LINE_FIELDS = [
    ("special-details", u("deployments:production_edit", ACME),
     lambda w, **o: prod_post(w, **o), "special_details", None),
    ("journal-body", u("logs:journal_create", ACME), lambda w, **o: entry_post(**o), "body",
     None),
    ("issue-description", u("logs:issue_create", ACME), issue_post, "description", None),
    ("issue-update", u("logs:issue_note_add", ACME, attr("issue")),
     lambda w, **o: {"body": "x", **o}, "body", None),
    ("risk-description", u("logs:risk_create", ACME), risk_post, "description", None),
    ("opportunity-signal", u("logs:opportunity_create", ACME), opportunity_post, "signal", None),
    ("checklist-evidence-note", u("closeout:checklist_item", ACME, attr("item")),
     item_post, "evidence_note", None),
]  # fmt: skip


def _refused_beside(response, name: str) -> str:
    assert response.status_code == 200, response.status_code
    page = response.content.decode()
    found = re.search(rf'<p class="error" id="[^"]*{re.escape(name)}_error">([^<]+)</p>', page)
    assert found, re.findall(r'class="error"[^>]*>([^<]*)<', page)
    return found.group(1)


def _post_each(world, url, post, name, error_id, values: dict) -> list[str]:
    client = Client()
    client.force_login(world.ie)
    problems = []
    for key, value in values.items():
        before = db_snapshot()
        response = client.post(url(world), post(world, **{name: value}))
        try:
            message = _refused_beside(response, error_id or name)
            assert "Remove the" in message, message
        except AssertionError as error:
            problems.append(f"{key}: {error}")
        if changed := snapshot_diff(before, db_snapshot()):
            problems.append(f"{key} changed {changed}")
    return problems


@pytest.mark.parametrize(
    ("id_", "url", "post", "name", "error_id"),
    SINGLE_LINE_FIELDS,
    ids=[f[0] for f in SINGLE_LINE_FIELDS],
)
def test_a_one_line_field_refuses_control_characters_beside_it(
    world, id_, url, post, name, error_id
):
    assert not _post_each(world, url, post, name, error_id, SINGLE_LINE_REFUSED)


@pytest.mark.parametrize(
    ("id_", "url", "post", "name", "error_id"),
    MULTI_LINE_FIELDS,
    ids=[f[0] for f in MULTI_LINE_FIELDS],
)
def test_a_multi_line_field_keeps_line_breaks_and_refuses_the_rest(
    world, id_, url, post, name, error_id
):
    if id_ == "checklist-evidence-note":
        error_id = f"item-{world.item.position}-evidence_note"
    assert not _post_each(world, url, post, name, error_id, MULTI_LINE_REFUSED)
    client = Client()
    client.force_login(world.ie)
    response = client.post(url(world), post(world, **{name: MULTI_LINE_KEPT}))
    assert response.status_code in (200, 302)
    assert 'class="error"' not in response.content.decode()


def test_the_manager_s_reasons_are_multi_line_too(world, client_for):
    client = client_for(world.manager)
    before = db_snapshot()
    response = client.post(reverse("closeout:reopen", args=[INITECH(world)]), {"reason": "a\x00b"})
    assert "Remove the invisible control character (U+0000)." in _refused_beside(response, "reason")
    # A reason recorded with a sign-off must read as it was written: "Because exe.png" is
    # what "Because \u202egnp.exe" shows.
    response = client.post(
        reverse("closeout:reopen", args=[INITECH(world)]), {"reason": "Because \u202egnp.exe"}
    )
    assert "Remove the invisible text-direction character (U+202E)." in _refused_beside(
        response, "reason"
    )
    response = client.post(
        reverse("closeout:sign_off", args=[UMBRELLA(world)]), {"override_reason": "a\x07b"}
    )
    assert response.status_code in (200, 302, 403)
    assert not snapshot_diff(before, db_snapshot())


def test_real_right_to_left_text_is_kept(world, client_for):
    # Arabic and Hebrew need no override characters; a left-to-right mark is not one either.
    title = "مرحبا שלום \u200eAcme 🚀"
    response = client_for(world.ie).post(
        reverse("logs:issue_create", args=[world.acme.pk]), issue_post(world, title=title)
    )
    assert response.status_code == 302
    assert world.acme.issues.filter(title=title).exists()


@pytest.mark.parametrize(("field", "value"), [("name", "Acme\r\nRobotics"), ("name", "A\tB")])
def test_the_admin_refuses_them_beside_the_field(world, field, value):
    staff = UserFactory(username="staff", role="manager", is_staff=True)
    client = Client()
    client.force_login(staff)
    data = admin_account_post(world, **{field: value})
    before = db_snapshot(ADMIN_APPS)
    response = client.post(reverse("admin:accounts_account_change", args=[world.acme.pk]), data)
    assert response.status_code == 200
    assert re.search(
        rf'<ul class="errorlist" id="id_{field}_error"><li>', response.content.decode()
    )
    assert not snapshot_diff(before, db_snapshot(ADMIN_APPS))


def test_the_admin_checklist_template_refuses_them_through_the_model(world, template):
    staff = UserFactory(username="staff", role="manager", is_staff=True)
    client = Client()
    client.force_login(staff)
    before = db_snapshot(ADMIN_APPS)
    response = client.post(
        reverse("admin:closeout_checklisttemplateitem_add"),
        {"title": "Monitoring\nhanded over", "guidance": "a\x07b", "position": "500",
         "is_active": "on", "_save": "Save"},
    )  # fmt: skip
    assert response.status_code == 200
    page = response.content.decode()
    assert re.search(r'<ul class="errorlist" id="id_title_error"><li>', page)
    assert re.search(r'<ul class="errorlist" id="id_guidance_error"><li>', page)
    assert not snapshot_diff(before, db_snapshot(ADMIN_APPS))


def test_the_services_refuse_them_whoever_calls(world):
    with pytest.raises(ValidationError) as raised:
        account_update(
            account=world.acme,
            actor=world.ie,
            data={"name": "Acme\r\nRobotics"},
            expected_version=ANY_VERSION,
        )
    assert "name" in raised.value.message_dict
    with pytest.raises(ValidationError) as raised:
        issue_create(account=world.acme, actor=world.ie, title="Slow\nsearch", owner=world.ie)
    assert "title" in raised.value.message_dict


def _project_form_classes():
    modules = [
        "handoff.accounts.forms", "handoff.accounts.admin", "handoff.closeout.forms",
        "handoff.common.forms", "deployments.forms", "logs.forms",
    ]  # fmt: skip
    for module in map(importlib.import_module, modules):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, forms.BaseForm) and cls.__module__ == module.__name__:
                yield cls


def test_every_form_with_free_text_applies_the_rules():
    # A form added later with a text field and without the mixin fails here.
    missing = [
        cls.__qualname__
        for cls in _project_form_classes()
        if not issubclass(cls, PlainTextFormMixin | FilterForm)
        and any(
            isinstance(f, forms.CharField) and not f.widget.is_hidden
            for f in cls.base_fields.values()
        )
    ]
    assert not missing


@pytest.mark.parametrize(
    "value, message",
    [
        ("Acme\r\nCorp", "Remove the line break: this field takes one line."),
        ("Acme\u2028Corp", "Remove the line break: this field takes one line."),
        ("Acme\tCorp", "Remove the tab: this field takes one line."),
        ("Acme\x1bCorp", "Remove the invisible control character (U+001B)."),
        ("Acme\u202eCorp", "Remove the invisible text-direction character (U+202E)."),
    ],
)
def test_the_message_names_what_people_can_recognise(value, message):
    from django.core.exceptions import ValidationError

    from handoff.common.validators import validate_single_line_text

    with pytest.raises(ValidationError) as refused:
        validate_single_line_text(value)
    assert refused.value.messages == [message]
