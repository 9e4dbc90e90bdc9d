"""Issue 14, item 8: a conflict shows only the fields that differ, theirs beside yours, with a
choice where both people changed a field; their other changes are taken, yours kept; saving
applies the choices. One presentation (templates/includes/conflict.html) for every form."""

import re
from datetime import date

import pytest
from django.urls import reverse

from deployments.models import Environment
from deployments.services import environment_update
from handoff.accounts.models import Account
from handoff.accounts.services import account_update
from logs.models import Issue
from logs.services import issue_create, issue_update
from tests.deployments.test_views import production_post, production_url

pytestmark = pytest.mark.django_db


def _form_data(form) -> dict:
    """What the browser posts from a rendered (unbound or re-rendered) form."""
    data = {}
    for bound in form:
        value = bound.value()
        data[bound.html_name] = "" if value is None else str(value)
    return data


def _rows(page: str) -> list[str]:
    panel = page[page.index('class="conflict"') :]
    return re.findall(r"<legend>([^<]+)</legend>", panel[: panel.index("</section>")])


def test_two_edits_of_the_account_from_one_version(client_for, account, ie, manager):
    edit = reverse("accounts:edit", args=[account.pk])
    client = client_for(ie)
    irene = _form_data(client.get(edit).context["form"])  # Irene opens the form at version 1
    # Meanwhile Maya saves: two fields Irene also changes, one she does not.
    account_update(
        account=Account.objects.get(pk=account.pk),
        actor=manager,
        data={
            "name": "Acme by Maya",
            "planned_completion_date": date(2027, 3, 1),
            "crm_url": "https://crm.example/maya",
        },
        expected_version=1,
    )
    irene.update(
        name="Acme by Irene", planned_completion_date="2027-04-01", vitally_account_id="acme-ie"
    )
    page = client.post(edit, irene)
    html = page.content.decode()
    assert page.status_code == 200
    assert re.search(
        r"saved this record at \d\d:\d\d while you were editing\. 2 fields differ: "
        r"choose for each, then save\.",
        html,
    )
    assert manager.get_full_name() in html
    assert "Someone else saved" not in html  # one message, not two
    assert _rows(html) == ["Account name", "Planned completion date"]
    assert 'Keep theirs: <span class="conflict-value">Acme by Maya</span>' in html
    assert 'Use mine: <span class="conflict-value">Acme by Irene</span>' in html
    assert 'name="conflict__name" value="theirs" checked' in html  # theirs by default
    # Maya's CRM link is taken (shown, no choice); Irene's Vitally id is kept.
    taken = html[html.index('class="conflict-taken"') :]
    assert "https://crm.example/maya" in taken[: taken.index("</ul>")]
    assert 'value="acme-ie"' in html and 'name="version" value="2"' in html

    again = _form_data(page.context["form"])
    again.update({"conflict__name": "mine", "conflict__planned_completion_date": "theirs"})
    response = client.post(edit, again)
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.name == "Acme by Irene"  # mine
    assert account.planned_completion_date == date(2027, 3, 1)  # theirs
    assert account.crm_url == "https://crm.example/maya"  # theirs, taken
    assert account.vitally_account_id == "acme-ie"  # mine, nobody else changed it
    assert account.version == 3


def test_no_row_when_only_one_person_changed_a_field(client_for, account, ie, manager):
    edit = reverse("accounts:edit", args=[account.pk])
    client = client_for(ie)
    irene = _form_data(client.get(edit).context["form"])
    account_update(
        account=Account.objects.get(pk=account.pk),
        actor=manager,
        data={"crm_url": "https://crm.example/maya"},
        expected_version=1,
    )
    irene["name"] = "Acme by Irene"
    html = client.post(edit, irene).content.decode()
    assert "<legend>" not in html[html.index('class="conflict"') :].split("</section>")[0]
    assert "Their changes are now in the form with yours" in html
    assert 'value="https://crm.example/maya"' in html and 'value="Acme by Irene"' in html


def test_a_log_edit_conflict_uses_the_same_panel(client_for, account, ie, manager):
    issue = issue_create(account=account, actor=ie, title="Original", owner=ie)
    edit = reverse("logs:issue_edit", args=[account.pk, issue.pk])
    client = client_for(ie)
    irene = _form_data(client.get(edit).context["form"])
    issue_update(
        issue=Issue.objects.get(pk=issue.pk),
        actor=manager,
        data={"title": "Title by Maya", "severity": "critical"},
        expected_version=1,
    )
    irene.update(title="Title by Irene", severity="low")
    page = client.post(edit, irene)
    html = page.content.decode()
    assert _rows(html) == ["Title", "Severity"]
    assert "2 fields differ" in html
    again = _form_data(page.context["form"])
    again.update({"conflict__title": "theirs", "conflict__severity": "mine"})
    client.post(edit, again)
    issue.refresh_from_db()
    assert (issue.title, issue.severity) == ("Title by Maya", "low")


def test_a_deployment_conflict_uses_the_same_panel(client_for, account, ie, manager):
    client = client_for(ie)
    client.post(production_url(account), production_post())
    environment = Environment.objects.get()
    page = client.get(production_url(account))
    started = re.search(r'name="started_from" value="([^"]*)"', page.content.decode()).group(1)
    environment_update(
        environment=environment,
        actor=manager,
        data={"total_cpu": 96, "max_users": 5000},
        expected_version=1,
    )
    post = production_post(version="1", total_cpu="12")
    post["started_from"] = started.replace("&quot;", '"')
    page = client.post(production_url(account), post)
    html = page.content.decode()
    assert _rows(html) == ["Total CPU"]
    assert "1 field differs: choose for each, then save." in html
    taken = html[html.index('class="conflict-taken"') :]
    assert "5000" in taken[: taken.index("</ul>")]
    again = {**post, "version": "2", "conflict__total_cpu": "mine"}
    again["started_from"] = page.context["form"].data["started_from"]
    again["max_users"] = page.context["form"].data["max_users"]
    client.post(production_url(account), again)
    environment.refresh_from_db()
    assert (environment.total_cpu, environment.max_users) == (12, 5000)


def _formset_data(formset) -> dict:
    """What the browser posts from a rendered code hosts list form."""
    data = _form_data(formset.management_form)
    data["submission"] = f"token-{id(formset)}"  # the list form's one-time token
    for form in formset.forms:
        data.update(_form_data(form))
    return data


def test_the_code_hosts_list_uses_the_one_conflict_panel(client_for, account, ie, manager):
    """Row by row, as every edit form: a field both changed is theirs beside yours with a
    choice, a field only they changed is taken, yours kept; saving applies the choices."""
    from deployments.models import CodeHostConnection
    from tests.deployments.test_views import GITHUB, code_host_post, code_hosts_url

    url = code_hosts_url(account)
    client = client_for(ie)
    client.post(url, code_host_post([GITHUB]))
    host = CodeHostConnection.objects.get(account=account)
    irene = _formset_data(client.get(url).context["formset"])  # she opens the list
    # Meanwhile Maya saves the row: the count Irene also changes, the display name she does not.
    maya = client_for(manager)
    theirs = _formset_data(maya.get(url).context["formset"])
    theirs.update({"codehosts-0-repository_count": "1500", "codehosts-0-display_name": "By Maya"})
    assert maya.post(url, theirs).status_code == 302
    irene.update({"codehosts-0-repository_count": "7", "codehosts-0-monorepo_count": "2"})
    page = client.post(url, irene)
    html = page.content.decode()
    assert page.status_code == 200
    assert re.search(r"saved this record at \d\d:\d\d while you were editing\. 1 field", html)
    assert _rows(html) == ["Code host 1 (By Maya): Number of repositories"]
    assert 'Keep theirs: <span class="conflict-value">1500</span>' in html
    assert 'Use mine: <span class="conflict-value">7</span>' in html
    assert 'name="codehosts-0-conflict__repository_count" value="theirs" checked' in html
    taken = html[html.index('class="conflict-taken"') :]
    assert "By Maya" in taken[: taken.index("</ul>")]  # theirs, taken into the form
    assert 'name="codehosts-0-monorepo_count" value="2"' in html  # yours, kept
    assert "Changed by someone else meanwhile" not in html  # the old table is gone
    host.refresh_from_db()
    assert (host.repository_count, host.display_name) == (1500, "By Maya")  # nothing saved

    again = _formset_data(page.context["formset"])
    again["codehosts-0-conflict__repository_count"] = "mine"
    assert client.post(url, again).status_code == 302
    host.refresh_from_db()
    assert (host.repository_count, host.monorepo_count, host.display_name) == (7, 2, "By Maya")
