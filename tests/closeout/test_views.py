"""The handoff page and the checklist in the browser's terms: constant queries, htmx partials,
errors beside the field, the Markdown download, links from the account page and dashboard."""

import re

import pytest
from django.urls import reverse

from handoff.accounts.services import account_update
from handoff.closeout import services
from handoff.closeout.models import ChecklistItem
from handoff.common.services import ANY_VERSION
from tests.closeout.conftest import ready_account, settle
from tests.query_budget import account_page_queries

pytestmark = pytest.mark.django_db


def handoff_url(account):
    return reverse("accounts:detail", args=[account.pk])


def grow(account, *, ie, ta, manager, admin_user, size):
    """An account whose records grow with `size`: more checklist items, edits, review changes
    and sign-off/reopen cycles."""
    for n in range(size * 10):
        services.checklist_template_item_create(
            actor=admin_user, title=f"Extra check {n}", position=1000 + n
        )
    services.handoff_mark_reviewed(account=account, actor=ta)
    for cycle in range(size):
        ready_account(account, ie=ie, ta=ta)
        services.closeout_sign_off(account=account, actor=manager)
        services.closeout_reopen(account=account, actor=manager, reason=f"Cycle {cycle}")
        for item in ChecklistItem.objects.filter(account=account)[: size * 5]:
            services.checklist_item_update(
                item=item,
                actor=ie,
                data={"evidence_note": f"Note {cycle}"},
                expected_version=ANY_VERSION,
            )
        account_update(
            account=account,
            actor=ie,
            data={"crm_url": f"https://crm.example.com/{cycle}"},
            expected_version=ANY_VERSION,
        )


@pytest.mark.parametrize("size", [1, 4])
def test_handoff_page_query_count_does_not_grow_with_the_records(
    client_for, account, ie, ta, manager, admin_user, template, size, django_assert_num_queries
):
    grow(account, ie=ie, ta=ta, manager=manager, admin_user=admin_user, size=size)
    assert ChecklistItem.objects.filter(account=account).count() == 11 + size * 10
    client = client_for(ta)
    with django_assert_num_queries(account_page_queries(reviewed=True)):
        response = client.get(handoff_url(account))
    assert response.status_code == 200
    assert len(response.context["sign_offs"]) == size
    assert response.context["changes"].groups


def test_account_page_closeout_section_costs_constant_queries(
    client_for, account, ie, ta, started, django_assert_num_queries
):
    settle(account, ie)
    client = client_for(ie)
    with django_assert_num_queries(account_page_queries(with_environments=False)):
        response = client.get(reverse("accounts:detail", args=[account.pk]))
    page = response.content.decode()
    assert "Readiness 66%" in page  # not acknowledged, no deployment record yet


def test_the_old_handoff_page_redirects_to_the_account_page(client_for, account, ie):
    response = client_for(ie).get(reverse("closeout:handoff", args=[account.pk]))
    assert response.status_code == 301
    assert response["Location"] == reverse("accounts:detail", args=[account.pk])


def test_account_page_shows_readiness_by_rule_attention_sections_and_print_stylesheet(
    client_for, account, ie, ta, started
):
    page = client_for(ta).get(handoff_url(account)).content.decode()
    top = page.split('id="overview"')[1].split("</section>")[0]
    assert "Readiness 55%" in top
    assert "5 of 9 rules met" in top
    # The technical advisor reads the record before handoff: the blocker links to the section,
    # not to the form the engineer fills in (which refuses them).
    production = reverse("deployments:production_edit", args=[account.pk])
    assert production not in top
    assert (
        f'<a href="{handoff_url(account)}#production-deployment">'
        "No production deployment recorded</a>" in top
    )
    keeper = client_for(ie).get(handoff_url(account)).content.decode()
    assert f'<a href="{production}">No production deployment recorded</a>' in keeper
    assert (
        f'<a href="{handoff_url(account)}#handoff-status">{ta} has not acknowledged the account</a>'
        in top
    )
    # The checklist's eleven open items are one rule: one line, the items folded under it.
    assert "<summary>11 of 11 checklist items open</summary>" in top
    assert (
        f'<a href="{handoff_url(account)}#checklist-item-1">'
        "Checklist item open: Infrastructure for all customer environments</a>" in top
    )
    assert 'href="/static/css/print.css" media="print"' in page
    for section in ("overview", "attention", "handoff-status", "closeout", "vitally"):
        assert f'id="{section}"' in page
    # History has its own page.
    assert f'href="{reverse("accounts:history", args=[account.pk])}"' in page
    assert page.count('id="readiness"') == 1
    assert page.count('id="handoff-status"') == 1
    assert "Acknowledge the account" in page
    assert "Start closeout checklist" not in page  # started already


def test_attention_strip_warns_about_planned_completion(client_for, account, manager, ta):
    import datetime

    from django.utils import timezone

    account_update(
        account=account,
        actor=manager,
        data={"planned_completion_date": timezone.localdate() + datetime.timedelta(days=12)},
        expected_version=ANY_VERSION,
    )
    page = client_for(manager).get(handoff_url(account)).content.decode()
    assert f"Planned completion in 12 days, not acknowledged by {ta}" in page
    services.handoff_acknowledge(account=account, actor=ta)
    page = client_for(manager).get(handoff_url(account)).content.decode()
    assert "Planned completion in 12 days" not in page


def test_start_checklist_from_the_account_page(client_for, account, ie, template):
    client = client_for(ie)
    page = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert "Start closeout checklist" in page
    response = client.post(
        reverse("closeout:checklist_start", args=[account.pk]),
        {"next": reverse("accounts:detail", args=[account.pk])},
    )
    assert response["Location"] == reverse("accounts:detail", args=[account.pk]) + "#closeout"
    assert account.checklist_items.count() == 11


def test_next_never_leaves_the_site(client_for, account, ie, template):
    response = client_for(ie).post(
        reverse("closeout:checklist_start", args=[account.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == handoff_url(account) + "#closeout"


def item_post(item, **fields):
    data = {f"item-{item.position}-version": item.version}
    data.update({f"item-{item.position}-{k}": v for k, v in fields.items()})
    return data


def test_htmx_item_update_returns_the_row_and_the_new_readiness(client_for, account, ie, started):
    item = started[0]
    response = client_for(ie).post(
        reverse("closeout:checklist_item", args=[account.pk, item.pk]),
        item_post(item, status="done", evidence_url="https://docs.example.com/infra"),
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page
    assert page.startswith('<li class="checklist-item status-done" id="checklist-item-1">')
    assert '<p class="saved" role="status">Saved.</p>' in page
    assert '<div id="readiness" class="readiness" data-hx-swap-oob="true">' in page
    assert (
        '<p id="checklist-progress" class="meta" data-hx-swap-oob="true">'
        "1 of 11 done or not applicable</p>" in page
    )
    assert "Checklist item open: Infrastructure" not in page
    item.refresh_from_db()
    assert (item.status, item.completed_by, item.version) == ("done", ie, 2)


def test_htmx_item_error_is_shown_next_to_the_field_and_nothing_changes(
    client_for, account, ie, started
):
    item = started[6]
    response = client_for(ie).post(
        reverse("closeout:checklist_item", args=[account.pk, item.pk]),
        item_post(item, status="not_applicable", evidence_url="javascript:alert(1)"),
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert '<details class="checklist-edit" open>' in page
    # The item shown is the saved one, not the refused input.
    assert page.startswith('<li class="checklist-item status-open" id="checklist-item-7">')
    assert (
        'id="id_item-7-not_applicable_reason_error">'
        "Say why this item does not apply to this account.</p>" in page
    )
    assert (
        'id="id_item-7-evidence_url_error">Enter a link that starts with http:// or https://.</p>'
        in page
    )
    assert "hx-swap-oob" not in page
    item.refresh_from_db()
    assert (item.status, item.version) == ("open", 1)


def test_stale_item_form_is_refused_with_the_current_values(
    client_for, account, ie, manager, started
):
    item = started[0]
    services.checklist_item_update(
        item=item, actor=manager, data={"evidence_note": "Saved by Maya"}, expected_version=1
    )
    response = client_for(ie).post(
        reverse("closeout:checklist_item", args=[account.pk, item.pk]),
        item_post(item, status="done", evidence_note="Typed by Irene"),
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert "Someone else saved this record" in page
    assert "Saved by Maya" in page
    item.refresh_from_db()
    assert (item.status, item.evidence_note) == ("open", "Saved by Maya")


MISSING_VERSION = (
    "This form was sent without its version, so nothing was saved. Reload the page and make "
    "your change again."
)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("version", [None, ""], ids=["absent", "empty"])
def test_item_update_without_its_version_is_refused_and_changes_nothing(
    client_for, account, ie, started, version, htmx
):
    item = started[0]
    data = item_post(item, status="done", evidence_note="Sent blind")
    if version is None:
        del data[f"item-{item.position}-version"]
    else:
        data[f"item-{item.position}-version"] = version
    before = ChecklistItem.objects.filter(pk=item.pk).values().get()
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client_for(ie).post(
        reverse("closeout:checklist_item", args=[account.pk, item.pk]), data, **extra
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"__all__": [MISSING_VERSION]}
    page = response.content.decode()
    errors = page[page.index('class="form-errors"') :]
    assert MISSING_VERSION in errors[: errors.index("</div>")]
    assert ChecklistItem.objects.filter(pk=item.pk).values().get() == before


def test_item_update_without_htmx_redirects_or_shows_a_page(client_for, account, ie, started):
    item = started[1]
    client = client_for(ie)
    response = client.post(
        reverse("closeout:checklist_item", args=[account.pk, item.pk]),
        item_post(item, status="done"),
    )
    assert response["Location"] == handoff_url(account) + "#checklist-item-2"
    item.refresh_from_db()
    response = client.post(
        reverse("closeout:checklist_item", args=[account.pk, item.pk]),
        item_post(item, status="not_applicable"),
    )
    assert response.status_code == 200
    assert "<h1>Closeout checklist item</h1>" in response.content.decode()


def test_sign_off_form_lists_blockers_and_refuses_without_a_reason(
    client_for, account, ie, ta, manager, template
):
    ready_account(account, ie=ie, ta=ta, leave_open=("Syncing",))
    client = client_for(manager)
    form = client.get(reverse("closeout:sign_off", args=[account.pk])).content.decode()
    assert "Checklist item open: Syncing" in form
    assert "1 rule not met (1 blocker)." in form
    assert 'name="override_reason"' in form
    response = client.post(reverse("closeout:sign_off", args=[account.pk]), {"override_reason": ""})
    assert response.status_code == 200
    page = response.content.decode()
    assert (
        'id="id_override_reason_error">'
        "1 rule not met (1 blocker). Resolve it, or write why you sign off anyway.</p>" in page
    )
    assert "autofocus" not in form  # before the refusal, nothing jumps
    # The refusal sits by the field at the foot of the page: the field takes the focus there.
    field = page[page.index('<textarea name="override_reason"') :].split(">")[0]
    assert "autofocus" in field
    account.refresh_from_db()
    assert account.phase == "ready_for_handoff"
    response = client.post(
        reverse("closeout:sign_off", args=[account.pk]),
        {"override_reason": "Syncing is a customer task."},
        follow=True,
    )
    account.refresh_from_db()
    assert account.phase == "handed_off"
    # Whom it e-mails, by name (the e-mail goes once the test's transaction would commit).
    message = str(list(response.context["messages"])[0])
    assert message.startswith("Acme Robotics is signed off and handed off. An e-mail to ")
    assert str(ta) in message and "@" not in message


def test_sign_off_form_without_blockers_has_no_override_field(
    client_for, account, ie, ta, manager, template
):
    ready_account(account, ie=ie, ta=ta)
    form = client_for(manager).get(reverse("closeout:sign_off", args=[account.pk])).content.decode()
    assert "Ready: every readiness rule is met." in form
    assert 'name="override_reason"' not in form


def test_after_sign_off_the_ie_reads_and_the_ta_edits(
    client_for, client, account, ie, ta, manager, template
):
    ready_account(account, ie=ie, ta=ta)
    services.closeout_sign_off(account=account, actor=manager)
    client.force_login(ie)
    page = client.get(handoff_url(account)).content.decode()
    assert "Update<span" not in page  # no checklist editors
    assert (
        client.get(reverse("accounts:detail", args=[account.pk]))
        .content.decode()
        .count("Edit account")
        == 0
    )
    assert (
        client.post(
            reverse("accounts:edit", args=[account.pk]), {"name": "By IE", "version": 1}
        ).status_code
        == 403
    )
    client.force_login(ta)
    response = client.post(
        reverse("accounts:edit", args=[account.pk]),
        {"name": "By TA", "version": account.version + 1},
    )
    assert response.status_code == 302


def test_markdown_download(client_for, account, ie, started, settings):
    settings.PORTAL_BASE_URL = "https://handoff.example.com"
    response = client_for(ie).get(reverse("closeout:handoff_markdown", args=[account.pk]))
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="handoff-acme-robotics.md"'
    text = response.content.decode()
    assert text.startswith("# Handoff: Acme Robotics\n")
    assert f"<https://handoff.example.com/accounts/{account.pk}/>" in text
    assert "## Closeout checklist" in text


def test_markdown_escapes_what_people_typed(client_for, account, ie, manager, started):
    account_update(
        account=account,
        actor=manager,
        data={"name": "Evil | *Corp* <script>alert(1)</script> [x](javascript:alert(1))"},
        expected_version=ANY_VERSION,
    )
    services.checklist_item_update(
        item=started[0],
        actor=ie,
        data={"evidence_note": "line one\n| injected | row |"},
        expected_version=ANY_VERSION,
    )
    text = (
        client_for(ie).get(reverse("closeout:handoff_markdown", args=[account.pk])).content.decode()
    )
    assert (
        "# Handoff: Evil \\| \\*Corp\\* \\<script\\>alert(1)\\</script\\> "
        "\\[x\\](javascript:alert(1))" in text
    )
    row = next(line for line in text.splitlines() if line.startswith("| 1 |"))
    assert row.count(" | ") == 5  # still six cells: the note's pipes are escaped
    assert "line one \\| injected \\| row \\|" in row


def test_sign_off_snapshot_page_sanitises_the_record(
    client_for, account, ie, ta, manager, template
):
    account_update(
        account=account,
        actor=manager,
        data={"name": "<img src=x onerror=alert(1)> Co"},
        expected_version=ANY_VERSION,
    )
    ready_account(account, ie=ie, ta=ta)
    sign_off = services.closeout_sign_off(account=account, actor=manager)
    page = client_for(ta).get(sign_off.get_absolute_url()).content.decode()
    body = page.split('class="snapshot-body"')[1]
    assert "<img" not in body
    assert "&lt;img src=x onerror=alert(1)&gt; Co" in body
    assert not re.search(r"<a href=\"(?!https?://)", body)


@pytest.mark.parametrize("htmx", [False, True])
def test_the_item_page_answers_a_conflict_with_the_one_conflict_panel(
    client_for, account, ie, manager, started, htmx
):
    """On the item's own page (a plain post, or htmx from that page), an edit conflict shows
    the shared panel: only the fields that differ, theirs beside yours, one choice each, in a
    form that applies the choices; the item below shows what is saved now."""
    item = started[0]
    url = reverse("closeout:checklist_item", args=[account.pk, item.pk])
    services.checklist_item_update(
        item=item, actor=manager, data={"evidence_note": "Saved by Maya"}, expected_version=1
    )
    headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": f"http://testserver{url}"}
    client = client_for(ie)
    response = client.post(
        url, item_post(item, evidence_note="Typed by Irene"), **(headers if htmx else {})
    )
    page = response.content.decode()
    assert response.status_code == 200
    if htmx:
        assert response["HX-Retarget"] == "#checklist-item-page"
        assert page.lstrip().startswith('<div id="checklist-item-page">')
    conflict = page[page.index('class="conflict"') : page.index("</section>")]
    assert re.search(r"saved this record at \d\d:\d\d while you were editing\. 1 field", conflict)
    assert re.findall(r"<legend>([^<]+)</legend>", conflict) == ["Evidence note"]
    assert 'Keep theirs: <span class="conflict-value">Saved by Maya</span>' in conflict
    assert 'Use mine: <span class="conflict-value">Typed by Irene</span>' in conflict
    assert "Someone else saved this record" not in page  # one message, not two
    item.refresh_from_db()
    assert item.evidence_note == "Saved by Maya"

    form = page[page.index("checklist-conflict") :]
    form = form[: form.index("</form>")]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    assert fields[f"item-{item.position}-version"] == "2"
    fields[f"item-{item.position}-conflict__evidence_note"] = "mine"
    assert client.post(url, fields).status_code == 302
    item.refresh_from_db()
    assert item.evidence_note == "Typed by Irene"
