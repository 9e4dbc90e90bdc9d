"""The logs' pages: forms and bad input, safe rendering, htmx partials, CSV, permissions."""

import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from handoff.accounts.models import Account
from handoff.audit.models import AuditEvent
from logs.models import ExpansionOpportunity, Issue, JournalEntry, Risk
from logs.services import (
    issue_create,
    issue_update,
    journal_entry_create,
    opportunity_create,
    risk_create,
)
from tests.factories import AccountFactory, UserFactory, form_token
from tests.logs.factories import IssueFactory, JournalEntryFactory, OpportunityFactory, RiskFactory

pytestmark = pytest.mark.django_db

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def url(name, account, *items):
    return reverse(f"logs:{name}", args=[account.pk, *[i.pk for i in items]])


def _valid(kind: str, owner) -> dict:
    """A valid create form as served: with its one-time token."""
    return {"submission": form_token()} | {
        "journal": {"title": "Limits", "category": "general", "kind": "info", "body": "Text"},
        "issue": {"title": "SAML loop", "severity": "high", "owner": owner.pk},
        "risk": {
            "title": "Disk fills",
            "category": "performance",
            "description": "Because …",
            "likelihood": "4",
            "impact": "5",
            "response_strategy": "mitigate",
            "owner": owner.pk,
        },
        "opportunity": {"title": "More users", "opportunity_type": "user", "owner": owner.pk},
    }[kind]


MODELS = {
    "journal": JournalEntry,
    "issue": Issue,
    "risk": Risk,
    "opportunity": ExpansionOpportunity,
}


# --- Adding through the forms ----------------------------------------------------------------
@pytest.mark.parametrize("kind", ["journal", "issue", "risk", "opportunity"])
def test_a_valid_form_adds_the_item_and_redirects_to_the_list(client_for, account, ie, kind):
    response = client_for(ie).post(url(f"{kind}_create", account), _valid(kind, ie))
    assert response.status_code == 302
    assert response["Location"] == url(f"{kind}_list", account)
    assert MODELS[kind].objects.filter(account=account).count() == 1


SECTIONS = {
    "journal": "implementation-notes",
    "issue": "issues-log",
    "risk": "risk-log",
    "opportunity": "expansion-opportunities",
}


@pytest.mark.parametrize("kind", ["journal", "issue", "risk", "opportunity"])
def test_an_add_opened_on_the_account_page_goes_back_there(client_for, account, ie, kind):
    """ "Add an issue" on the account page: the form's Back and its save lead back to that
    section, not to the log's list (a walkthrough needed a click more to get back)."""
    client = client_for(ie)
    page = client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    add = url(f"{kind}_create", account) + "?from=account"
    assert f'href="{add}"' in page
    back = reverse("accounts:detail", args=[account.pk]) + f"#{SECTIONS[kind]}"
    form = client.get(add).content.decode()
    assert f'action="{add}"' in form and f'href="{back}"' in form
    response = client.post(add, _valid(kind, ie))
    assert (response.status_code, response["Location"]) == (302, back)
    assert MODELS[kind].objects.filter(account=account).count() == 1
    # Only the flag is read: any other value leaves the list as where it goes.
    response = client.post(
        url(f"{kind}_create", account) + "?from=//evil.example", _valid(kind, ie)
    )
    assert response["Location"] == url(f"{kind}_list", account)


@pytest.mark.parametrize(
    "kind, field, value, message",
    [
        ("journal", "title", "", "This field is required."),
        ("journal", "body", "", "This field is required."),
        ("journal", "title", "x" * 201, "at most 200 characters"),
        ("journal", "reference_url", "javascript:alert(1)", "starts with http:// or https://"),
        ("journal", "category", "gossip", "Select a valid choice"),
        ("issue", "title", "", "This field is required."),
        ("issue", "severity", "apocalyptic", "Select a valid choice"),
        ("issue", "owner", "999999", "Choose an active portal user as the owner."),
        ("issue", "owner", "", "This field is required."),
        ("issue", "target_date", "31/31/2026", "Enter a valid date."),
        ("issue", "external_ticket_url", "data:text/html,hi", "starts with http:// or https://"),
        ("risk", "likelihood", "6", "Select a valid choice"),
        ("risk", "likelihood", "0", "Select a valid choice"),
        ("risk", "impact", "", "This field is required."),
        ("risk", "impact", "5.5", "Select a valid choice"),
        ("risk", "owner", "999999", "Choose an active portal user as the owner."),
        ("risk", "description", "", "This field is required."),
        ("opportunity", "estimated_additional_users", "-5", "greater than or equal to 0"),
        ("opportunity", "estimated_additional_users", "lots", "Enter a whole number."),
        ("opportunity", "owner", "abc", "Choose an active portal user as the owner."),
    ],
)
def test_bad_input_shows_a_message_next_to_the_field_and_adds_nothing(
    client_for, account, ie, kind, field, value, message
):
    data = {**_valid(kind, ie), field: value}
    response = client_for(ie).post(url(f"{kind}_create", account), data)
    assert response.status_code == 200
    errors = response.context["form"].errors[field]
    assert any(message in e for e in errors), errors
    assert f'id="new-{"note" if kind == "journal" else kind}-{field}_error"' in (
        response.content.decode()
    )
    assert not MODELS[kind].objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("kind", ["issue", "risk", "opportunity"])
def test_an_owner_from_outside_the_system_is_refused(client_for, account, ie, kind):
    gone = UserFactory(username="left-the-company", is_active=False)
    data = {**_valid(kind, ie), "owner": gone.pk}
    response = client_for(ie).post(url(f"{kind}_create", account), data)
    assert "Choose an active portal user as the owner." in response.context["form"].errors["owner"]
    assert not MODELS[kind].objects.exists()


def test_the_inline_add_returns_a_message_and_tells_the_list_to_reload(client_for, account, ie):
    client = client_for(ie)
    form = client.get(url("issue_create", account), HTTP_HX_REQUEST="true")
    page = form.content.decode()
    assert "<html" not in page and 'data-hx-post="' in page and "New issue" in page
    response = client.post(
        url("issue_create", account), _valid("issue", ie), HTTP_HX_REQUEST="true"
    )
    assert response["HX-Trigger"] == "logs-changed"
    assert "I-1 “SAML loop” added to the Issues Log." in response.content.decode()
    rows = client.get(url("issue_list", account), HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in rows and "SAML loop" in rows


def test_an_invalid_inline_add_returns_the_form_with_its_errors(client_for, account, ie):
    response = client_for(ie).post(
        url("risk_create", account),
        {**_valid("risk", ie), "likelihood": "6"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200  # htmx swaps 200s only
    assert "HX-Trigger" not in response
    assert 'id="new-risk-likelihood_error"' in response.content.decode()


# --- Safe rendering --------------------------------------------------------------------------
def test_titles_and_text_are_escaped_everywhere(client_for, account, ie, manager):
    issue = issue_create(account=account, actor=ie, title=XSS, owner=ie, description=XSS)
    risk = risk_create(
        account=account, actor=ie, title=XSS, description=XSS, likelihood=2, impact=2, owner=ie
    )
    opportunity = opportunity_create(account=account, actor=ie, title=XSS, owner=ie, signal=XSS)
    journal_entry_create(account=account, author=ie, title=XSS, body="fine")
    client = client_for(manager)
    for page_url in [
        reverse("accounts:detail", args=[account.pk]),
        url("issue_list", account),
        url("issue_detail", account, issue),
        url("risk_list", account),
        url("risk_detail", account, risk),
        url("opportunity_list", account),
        url("opportunity_detail", account, opportunity),
        url("journal_list", account),
        reverse("logs:issue_overview"),
        reverse("logs:risk_heatmap"),
    ]:
        page = client.get(page_url).content.decode()
        assert "<script>alert" not in page, page_url
        assert "<img src=x" not in page, page_url
        assert "&lt;script&gt;alert" in page, page_url


def test_journal_markdown_is_rendered_and_html_in_it_made_inert(client_for, account, ie):
    body = (
        "**Rockskip** on `acme/firmware`.\n\n"
        "[docs](https://docs.sourcegraph.com) [bad](javascript:alert(1))\n\n"
        '<script>alert("x")</script>\n\n<img src=x onerror=alert(1)>\n\n'
        '<a href="https://x.example" onclick="steal()">click</a>\n\n'
        "<iframe src='https://evil.example'></iframe>"
    )
    journal_entry_create(account=account, author=ie, title="Notes", body=body)
    client = client_for(ie)
    for page_url in [url("journal_list", account)]:  # the account page lists titles only
        page = client.get(page_url).content.decode()
        note = page[page.index('class="markdown"') :]
        note = note[: note.index("</div>")]
        assert "<strong>Rockskip</strong>" in note
        assert "<code>acme/firmware</code>" in note
        assert 'href="https://docs.sourcegraph.com"' in note
        assert 'rel="noopener noreferrer nofollow"' in note
        for dangerous in ("<script", "javascript:", "onerror", "onclick", "<iframe", "<img"):
            assert dangerous not in note, dangerous


# --- Editing ---------------------------------------------------------------------------------
def test_inline_edit_swaps_the_row_and_saves(client_for, account, ie):
    issue = issue_create(account=account, actor=ie, title="Old title", owner=ie)
    client = client_for(ie)
    form = client.get(url("issue_edit", account, issue), HTTP_HX_REQUEST="true").content.decode()
    assert form.startswith(f'<tr id="issue-{issue.pk}" class="editing">')
    data = {"title": "New title", "severity": "low", "owner": ie.pk, "status": "open", "version": 1}
    row = client.post(url("issue_edit", account, issue), data, HTTP_HX_REQUEST="true")
    assert f'<tr id="issue-{issue.pk}"' in row.content.decode()
    assert "New title" in row.content.decode()
    issue.refresh_from_db()
    assert (issue.title, issue.severity, issue.version) == ("New title", "low", 2)
    cancel = client.get(url("issue_row", account, issue), HTTP_HX_REQUEST="true").content.decode()
    assert "New title" in cancel and "editing" not in cancel


def test_a_stale_edit_shows_the_current_values_and_overwrites_nothing(
    client_for, account, ie, manager
):
    issue = issue_create(account=account, actor=ie, title="Original", owner=ie)
    issue_update(issue=issue, actor=manager, data={"title": "Saved by Maya"}, expected_version=1)
    response = client_for(ie).post(
        url("issue_edit", account, issue),
        {
            "title": "Typed by Irene",
            "severity": "medium",
            "owner": ie.pk,
            "status": "open",
            "version": 1,
        },
    )
    page = response.content.decode()
    assert "while you were editing. 1 field differs" in page
    assert "Saved by Maya" in page and 'value="Typed by Irene"' in page
    assert 'name="version" value="2"' in page
    issue.refresh_from_db()
    assert issue.title == "Saved by Maya"


def test_resolving_from_the_list_without_a_resolution_opens_the_form_with_the_message(
    client_for, account, ie
):
    issue = issue_create(account=account, actor=ie, title="SAML loop", owner=ie)
    response = client_for(ie).post(
        url("issue_status", account, issue), {"status": "resolved"}, HTTP_HX_REQUEST="true"
    )
    page = response.content.decode()
    assert f'<tr id="issue-{issue.pk}" class="editing">' in page
    assert f'id="issue-{issue.pk}-resolution_error"' in page
    assert "Write the resolution before marking the issue Resolved." in page
    issue.refresh_from_db()
    assert issue.status == "open"
    # With the resolution written, the same change goes through.
    response = client_for(ie).post(
        url("issue_status", account, issue),
        {"status": "resolved", "resolution": "Fixed the ACS URL."},
        HTTP_HX_REQUEST="true",
    )
    issue.refresh_from_db()
    assert issue.status == "resolved" and issue.resolved_on is not None
    assert "Resolved" in response.content.decode()


def test_the_issue_page_takes_dated_updates(client_for, account, ie):
    issue = issue_create(account=account, actor=ie, title="SAML loop", owner=ie)
    client = client_for(ie)
    response = client.post(
        url("issue_note_add", account, issue),
        {"body": "Okta admin is on it.", "submission": form_token()},
        HTTP_HX_REQUEST="true",
    )
    assert 'id="issue-notes"' in response.content.decode()
    assert "Okta admin is on it." in response.content.decode()
    empty = client.post(url("issue_note_add", account, issue), {"body": ""})
    assert "This field is required." in empty.content.decode()
    assert issue.notes.count() == 1


def test_it_happened_from_the_list_links_the_new_issue(client_for, account, ie):
    risk = risk_create(
        account=account,
        actor=ie,
        title="Disk fills",
        description="…",
        likelihood=4,
        impact=5,
        owner=ie,
    )
    row = client_for(ie).post(url("risk_occurred", account, risk), HTTP_HX_REQUEST="true")
    issue = Issue.objects.get(account=account)
    page = row.content.decode()
    assert f'href="{issue.get_absolute_url()}">Issue I-1</a>' in page
    assert "Occurred" in page and "It happened" not in page
    detail = client_for(ie).get(issue.get_absolute_url()).content.decode()
    assert f'href="{risk.get_absolute_url()}">R-1 Disk fills</a>' in detail


def test_a_note_edit_keeps_the_earlier_text_under_the_note(client_for, account, ie):
    entry = journal_entry_create(account=account, author=ie, title="Limits", body="1,000 users")
    client = client_for(ie)
    response = client.post(
        url("journal_edit", account, entry),
        {
            "title": "Limits",
            "category": "upper_limits",
            "kind": "info",
            "body": "1,200 users",
            "version": 1,
        },
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert page.lstrip().startswith(f'<article id="entry-{entry.pk}"')
    assert "Earlier text (1 correction)" in page
    assert '<td class="before">1,000 users</td>' in page
    assert "1,200 users" in page


# --- Lists, filters, CSV ---------------------------------------------------------------------
def test_list_filters(client_for, account, ie, ta):
    IssueFactory(account=account, title="Crit open", severity="critical", owner=ie)
    IssueFactory(account=account, title="Low blocked", severity="low", status="blocked", owner=ta)
    IssueFactory(account=account, title="Done", status="closed", resolution="x", owner=ie)
    IssueFactory(title="Other account", owner=ie)
    client = client_for(ie)

    def titles(**params):
        response = client.get(url("issue_list", account), params)
        return [i.title for i in response.context["items"]]

    assert titles() == ["Crit open", "Low blocked", "Done"]  # open first, most severe first
    assert titles(status="open_any") == ["Crit open", "Low blocked"]
    assert titles(severity="low") == ["Low blocked"]
    assert titles(owner=ta.pk) == ["Low blocked"]
    assert titles(status="nonsense") == ["Crit open", "Low blocked", "Done"]


def test_risk_list_filters_by_band(client_for, account, ie):
    RiskFactory(account=account, title="Critical one", likelihood=4, impact=5)
    RiskFactory(account=account, title="High one", likelihood=3, impact=4)
    RiskFactory(account=account, title="Low one", likelihood=1, impact=2)
    client = client_for(ie)
    titles = [r.title for r in client.get(url("risk_list", account)).context["items"]]
    assert titles == ["Critical one", "High one", "Low one"]  # highest score first
    response = client.get(url("risk_list", account), {"band": "high"})
    assert [r.title for r in response.context["items"]] == ["High one"]


def test_csv_export_is_safe_against_formula_injection(client_for, account, ie):
    for title in [
        '=HYPERLINK("http://evil","x")',
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(1)",
        "Plain",
    ]:
        issue_create(account=account, actor=ie, title=title, owner=ie)
    response = client_for(ie).get(url("issue_export", account))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'attachment; filename="acme-robotics-issues-' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["Number", "Title", "Severity", "Status"]
    titles = {row[1] for row in rows[1:]}
    assert titles == {
        '\'=HYPERLINK("http://evil","x")',
        "'+cmd|' /C calc'!A0",
        "'-2+3",
        "'@SUM(1)",
        "Plain",
    }


@pytest.mark.parametrize("kind", ["journal", "issue", "risk", "opportunity"])
def test_every_log_exports_csv_with_the_list_filters(client_for, account, ie, kind):
    factory = {
        "journal": lambda **kw: JournalEntryFactory(account=account, **kw),
        "issue": lambda **kw: IssueFactory(account=account, **kw),
        "risk": lambda **kw: RiskFactory(account=account, **kw),
        "opportunity": lambda **kw: OpportunityFactory(account=account, **kw),
    }[kind]
    factory(title="=1+1")
    factory(title="Second")
    response = client_for(ie).get(url(f"{kind}_export", account))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert len(rows) == 3
    assert any("'=1+1" in row for row in rows[1:])


# --- Permissions -----------------------------------------------------------------------------
def test_only_the_maintainer_adds_issues_risks_and_opportunities(client_for, account, ta):
    other_ie = UserFactory(username="other-ie", role="ie")
    for user in (ta, other_ie):  # the TA before handoff; an IE of another account
        client = client_for(user)
        for kind in ("issue", "risk", "opportunity"):
            assert (
                client.post(url(f"{kind}_create", account), _valid(kind, user)).status_code == 403
            )
    assert not Issue.objects.exists() and not Risk.objects.exists()


def test_after_handoff_the_ta_keeps_the_logs(client_for, account, ie, ta):
    Account.objects.filter(pk=account.pk).update(phase=Account.Phase.HANDED_OFF)
    assert client_for(ta).post(url("risk_create", account), _valid("risk", ta)).status_code == 302
    assert client_for(ie).post(url("risk_create", account), _valid("risk", ie)).status_code == 403


def test_anyone_signed_in_adds_a_note_but_only_author_or_maintainer_edits_it(
    client_for, account, ie
):
    stranger = UserFactory(username="stranger", role="ta")
    client = client_for(stranger)
    assert (
        client.post(url("journal_create", account), _valid("journal", stranger)).status_code == 302
    )
    mine = JournalEntry.objects.get()
    theirs = journal_entry_create(account=account, author=ie, title="IE's", body="text")
    edit = {"title": "Changed", "category": "general", "kind": "info", "body": "x", "version": 1}
    assert client.post(url("journal_edit", account, mine), edit).status_code == 302
    assert client.post(url("journal_edit", account, theirs), edit).status_code == 403
    assert (
        client_for(ie).post(url("journal_edit", account, mine), {**edit, "version": 2}).status_code
        == 302
    )
    theirs.refresh_from_db()
    assert theirs.title == "IE's"


def test_an_items_owner_may_update_it_without_being_the_maintainer(client_for, account, ie, ta):
    issue = issue_create(account=account, actor=ie, title="Owned by the TA", owner=ta)
    other = issue_create(account=account, actor=ie, title="Owned by the IE", owner=ie)
    client = client_for(ta)
    assert (
        client.post(url("issue_status", account, issue), {"status": "in_progress"}).status_code
        == 302
    )
    assert (
        client.post(url("issue_status", account, other), {"status": "in_progress"}).status_code
        == 403
    )
    note = {"body": "On it", "submission": form_token()}
    assert client.post(url("issue_note_add", account, issue), note).status_code == 302
    issue.refresh_from_db()
    other.refresh_from_db()
    assert (issue.status, other.status) == ("in_progress", "open")


@pytest.mark.parametrize(
    "name, kind, data",
    [
        ("issue_edit", "issue", {"title": "Hijacked", "severity": "low", "status": "open"}),
        ("issue_status", "issue", {"status": "blocked"}),
        ("issue_note_add", "issue", {"body": "Hijacked"}),
        ("issue_row", "issue", None),
        ("issue_detail", "issue", None),
        ("risk_edit", "risk", {"title": "Hijacked"}),
        ("risk_status", "risk", {"status": "closed"}),
        ("risk_occurred", "risk", {}),
        ("opportunity_edit", "opportunity", {"title": "Hijacked"}),
        ("opportunity_stage", "opportunity", {"stage": "won"}),
        ("journal_edit", "journal", {"title": "Hijacked", "body": "x"}),
        ("journal_entry", "journal", None),
    ],
)
def test_an_item_of_another_account_is_not_found_through_this_accounts_url(
    client_for, account, manager, name, kind, data
):
    other = AccountFactory(name="Other Customer")
    item = {
        "issue": lambda: IssueFactory(account=other, title="Theirs"),
        "risk": lambda: RiskFactory(account=other, title="Theirs"),
        "opportunity": lambda: OpportunityFactory(account=other, title="Theirs"),
        "journal": lambda: JournalEntryFactory(account=other, title="Theirs"),
    }[kind]()
    client = client_for(manager)  # may edit every account, and still gets a 404
    target = url(name, account, item)
    response = client.get(target) if data is None else client.post(target, data)
    assert response.status_code == 404
    item.refresh_from_db()
    assert item.title == "Theirs"
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("name", ["issue_overview", "risk_heatmap"])
def test_cross_account_views_are_for_tas_and_managers(client_for, ie, ta, manager, name):
    assert client_for(ie).get(reverse(f"logs:{name}")).status_code == 403
    assert client_for(ta).get(reverse(f"logs:{name}")).status_code == 200
    assert client_for(manager).get(reverse(f"logs:{name}")).status_code == 200


def test_the_nav_shows_issues_and_risks_to_tas_and_managers_only(client_for, ie, ta):
    dashboard = reverse("accounts:dashboard")
    assert 'href="/risks/"' not in client_for(ie).get(dashboard).content.decode()
    page = client_for(ta).get(dashboard).content.decode()
    assert 'href="/issues/"' in page and 'href="/risks/"' in page


def test_anonymous_visitors_are_sent_to_sign_in(client, account):
    for target in [
        url("issue_list", account),
        reverse("logs:risk_heatmap"),
        url("journal_export", account),
    ]:
        response = client.get(target)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_an_unknown_account_is_a_404(client_for, manager):
    assert client_for(manager).get(reverse("logs:issue_list", args=[999999])).status_code == 404


def test_stale_items_are_flagged_where_they_appear(client_for, account, ie, manager):
    stale = IssueFactory(account=account, title="Forgotten", severity="critical", owner=ie)
    Issue.objects.filter(pk=stale.pk).update(updated_at=timezone.now() - datetime.timedelta(days=4))
    IssueFactory(account=account, title="Fresh", severity="critical", owner=ie)
    RiskFactory(
        account=account,
        title="Review overdue",
        next_review_date=timezone.localdate() - datetime.timedelta(days=1),
    )
    reason = "No update for 4 days; critical issues want one every 3 days."
    client = client_for(manager)
    for page_url in [
        url("issue_list", account),
        reverse("accounts:detail", args=[account.pk]),
        reverse("logs:issue_overview"),
        url("issue_detail", account, stale),
    ]:
        page = client.get(page_url).content.decode()
        assert page.count("Update due") >= 1, page_url
        assert reason in page, page_url
    rows = client.get(url("issue_list", account), HTTP_HX_REQUEST="true").content.decode()
    fresh_row = rows[rows.index(">Fresh</a>") :]
    fresh_row = fresh_row[: fresh_row.index("</tr>")]
    assert "Update due" not in fresh_row
    risks = client.get(url("risk_list", account)).content.decode()
    assert "The next review date" in risks and "has passed" in risks


def test_the_heatmap_lists_the_highest_scoring_risks_and_counts_them_all(
    client_for, account, manager, monkeypatch
):
    from logs.views import overview

    monkeypatch.setattr(overview, "RISK_LIST_LIMIT", 2)
    RiskFactory(account=account, title="Top", likelihood=5, impact=5)
    RiskFactory(account=account, title="Second", likelihood=4, impact=5)
    RiskFactory(account=account, title="Third", likelihood=2, impact=2)
    client = client_for(manager)
    response = client.get(reverse("logs:risk_heatmap"))
    assert [r.title for r in response.context["risks"]] == ["Top", "Second"]
    page = response.content.decode()
    assert "All open risks (3)" in page
    assert "Showing the 2 highest-scoring of 3." in page
    cell = client.get(reverse("logs:risk_heatmap"), {"likelihood": 2, "impact": 2})
    assert [r.title for r in cell.context["risks"]] == ["Third"]
    assert "Showing the" not in cell.content.decode()


# --- An edit sent without its version ----------------------------------------------------------
MISSING_VERSION = (
    "This form was sent without its version, so nothing was saved. Reload the page and make "
    "your change again."
)
EDIT_ONLY = {"journal": {}, "issue": {"status": "open"}, "risk": {"status": "open"}}
EDIT_ONLY["opportunity"] = {"stage": "identified"}


def _item(kind: str, account, ie):
    data = {k: v for k, v in _valid(kind, ie).items() if k not in ("owner", "submission")}
    data.update({k: int(data[k]) for k in ("likelihood", "impact") if k in data})
    if kind == "journal":
        return journal_entry_create(account=account, author=ie, **data)
    create = {"issue": issue_create, "risk": risk_create, "opportunity": opportunity_create}[kind]
    return create(account=account, actor=ie, owner=ie, **data)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("version", [None, ""], ids=["absent", "empty"])
@pytest.mark.parametrize("kind", ["journal", "issue", "risk", "opportunity"])
def test_an_edit_without_its_version_is_refused_and_changes_nothing(
    client_for, account, ie, kind, version, htmx
):
    item = _item(kind, account, ie)
    row_before = MODELS[kind].objects.filter(pk=item.pk).values().get()
    events = AuditEvent.objects.count()
    data = {**_valid(kind, ie), "title": "Overwritten blind", **EDIT_ONLY[kind]}
    if version is not None:
        data["version"] = version
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client_for(ie).post(url(f"{kind}_edit", account, item), data, **extra)
    assert response.status_code == 200
    assert response.context["form"].errors == {"__all__": [MISSING_VERSION]}
    page = response.content.decode()
    errors = page[page.index('class="form-errors"') :]
    assert MISSING_VERSION in errors[: errors.index("</div>")]
    assert 'value="Overwritten blind"' in page  # what was typed stays in the form
    assert MODELS[kind].objects.filter(pk=item.pk).values().get() == row_before
    assert AuditEvent.objects.count() == events
