"""Issue 12: links that urlsplit() refuses ("a[b]", "http://[x]/", "http://[::1") were a 500 on
every URL field. Each is now the message beside the field, the database as it was; a stored one
(from before the fix) still renders."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from deployments.models import Environment
from handoff.accounts.models import Account
from handoff.common.validators import HttpURLFormField, validate_http_url
from tests.factories import UserFactory
from tests.security.snapshot import ADMIN_APPS, db_snapshot, snapshot_diff
from tests.security.test_bad_input import (
    ACME,
    account_post,
    attr,
    entry_post,
    env_post,
    host_post,
    issue_post,
    item_post,
    new_account_post,
    prod_post,
    u,
)

pytestmark = pytest.mark.django_db

BRACKETED = ["a[b]", "http://[x]/", "http://[::1", "https://]x", "http://[::1]x/"]

# (id, url, the valid post the case spoils, the field's name in the post)
URL_FIELDS = [
    ("account-create", u("accounts:create"), new_account_post, "crm_url"),
    ("account-edit", u("accounts:edit", ACME), account_post, "crm_url"),
    ("production", u("deployments:production_edit", ACME),
     lambda w, **o: prod_post(w, **o), "sourcegraph_instance_url"),
    ("production-document", u("deployments:production_edit", ACME),
     lambda w, **o: prod_post(w, **o), "documents-0-url"),
    ("environment-create", u("deployments:environment_create", ACME),
     lambda w, **o: env_post(**o), "sourcegraph_instance_url"),
    ("environment-edit", u("deployments:environment_edit", ACME, attr("staging")),
     lambda w, **o: env_post(version=str(w.staging.version), **o), "sourcegraph_instance_url"),
    ("code-host", u("deployments:code_hosts_edit", ACME),
     lambda w, **o: host_post(**{k.removeprefix("codehosts-0-"): v for k, v in o.items()}),
     "codehosts-0-url"),
    ("journal-create", u("logs:journal_create", ACME),
     lambda w, **o: entry_post(**o), "reference_url"),
    ("journal-edit", u("logs:journal_edit", ACME, attr("entry")),
     lambda w, **o: entry_post(version="1", **o), "reference_url"),
    ("issue-create", u("logs:issue_create", ACME), issue_post, "external_ticket_url"),
    ("issue-edit", u("logs:issue_edit", ACME, attr("issue")),
     lambda w, **o: issue_post(w, status="open", version="1", **o), "external_ticket_url"),
    ("checklist-item", u("closeout:checklist_item", ACME, attr("item")),
     lambda w, **o: item_post(w, **{k.split("-", 2)[-1]: v for k, v in o.items()}),
     "evidence_url"),
]  # fmt: skip


# Each value in turn on one world: a refusal changes nothing, so the next starts from the same
# state (and one world a field, not one a value, keeps the file quick).
@pytest.mark.parametrize(("id_", "url", "post", "name"), URL_FIELDS, ids=[f[0] for f in URL_FIELDS])
def test_a_link_urlsplit_refuses_is_a_message_beside_its_field(world, id_, url, post, name):
    client = Client()
    client.force_login(world.ie)
    field = f"item-{world.item.position}-evidence_url" if id_ == "checklist-item" else name
    before = db_snapshot()
    for value in BRACKETED:
        response = client.post(url(world), post(world, **{name: value}))
        assert response.status_code == 200, (value, response.status_code)
        page = response.content.decode()
        beside = rf'<p class="error" id="[^"]*{re.escape(field)}_error">[^<]+</p>'
        assert re.search(beside, page), (value, re.findall(r'class="error"[^>]*>([^<]*)<', page))
        assert not snapshot_diff(before, db_snapshot()), value


def test_the_admin_refuses_them_beside_the_field(world):
    staff = UserFactory(username="staff", role="manager", is_staff=True)
    client = Client()
    client.force_login(staff)
    acme = Account.objects.get(pk=world.acme.pk)
    before = db_snapshot(ADMIN_APPS)
    for value in BRACKETED:
        _admin_refuses(client, acme, value)
    assert not snapshot_diff(before, db_snapshot(ADMIN_APPS))


def _admin_refuses(client, acme, value: str) -> None:
    data = {
        "name": acme.name,
        "vitally_account_id": acme.vitally_account_id,
        "crm_url": value,
        "implementation_engineer": str(acme.implementation_engineer_id),
        "technical_advisor": str(acme.technical_advisor_id),
        "manager": str(acme.manager_id),
        "planned_completion_date": "",
        "expected_version": str(acme.version),
        "_save": "Save",
    }
    response = client.post(reverse("admin:accounts_account_change", args=[acme.pk]), data)
    assert response.status_code == 200, (value, response.status_code)
    page = response.content.decode()
    assert re.search(r'<ul class="errorlist" id="id_crm_url_error"><li>', page), value


@pytest.mark.parametrize("value", BRACKETED)
def test_the_form_field_and_the_model_field_raise_a_validation_error(value):
    with pytest.raises(ValidationError):
        HttpURLFormField(required=False).clean(value)
    with pytest.raises(ValidationError):
        validate_http_url(value)
    account = Account(name="Bracket Co", crm_url=value)
    with pytest.raises(ValidationError) as raised:
        account.full_clean()
    assert "crm_url" in raised.value.message_dict


def test_the_message_says_what_to_type():
    with pytest.raises(ValidationError) as raised:
        validate_http_url("http://[x]/")
    assert raised.value.messages == ["Enter a valid link, such as https://example.com/page."]


def test_a_stored_bracketed_link_still_renders_every_page(world, client_for):
    # Saved before the fix (or by a raw UPDATE): the pages that show or re-validate it must not
    # fail. The readiness check re-validates stored deployment rows.
    Account.objects.filter(pk=world.acme.pk).update(crm_url="http://[x]/")
    Environment.objects.filter(pk=world.production.pk).update(sourcegraph_instance_url="a[b]")
    client = client_for(world.ie)
    for name in ("accounts:detail", "vitally_sync:panel", "closeout:handoff_markdown"):
        response = client.get(reverse(name, args=[world.acme.pk]))
        assert response.status_code == 200, name


def test_a_bracketed_next_link_sends_back_to_the_account_page(world, client_for):
    response = client_for(world.ie).post(
        reverse("closeout:handoff_request", args=[world.acme.pk]), {"next": "http://[x]/"}
    )
    assert response.status_code in (302, 403)
