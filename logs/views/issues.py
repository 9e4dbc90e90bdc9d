"""Issues Log: its spec (the generic pages in generic.py serve it), and what only issues have:
the item page with its dated updates."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from handoff.common.services import submission_once
from logs.forms import IssueFilterForm, IssueForm, IssueNoteForm, IssueStatusForm
from logs.models import Issue
from logs.selectors import issue_get, issue_list, issue_note_list
from logs.services import (
    issue_create,
    issue_note_add,
    issue_status_change,
    issue_update,
)
from logs.views.common import add_service_errors
from logs.views.generic import LogSpec, detail_context, item_or_404

ISSUES = LogSpec(
    name="issue",
    model=Issue,
    url_prefix="issues",
    form=IssueForm,
    filter_form=IssueFilterForm,
    status_form=IssueStatusForm,
    status_field="status",
    create=issue_create,
    update=issue_update,
    change_status=issue_status_change,
    list_selector=issue_list,
    get_selector=issue_get,
    row_template="logs/_issue_row.html",
    rows_template="logs/_issue_rows.html",
    detail_template="logs/issue_detail.html",
    columns=9,
    csv_name="issues",
    csv_columns=(
        ("Number", lambda i: i.reference),
        ("Title", lambda i: i.title),
        ("Severity", lambda i: i.get_severity_display()),
        ("Status", lambda i: i.get_status_display()),
        ("Owner", lambda i: i.owner),
        ("Raised by", lambda i: i.raised_by),
        ("Raised", lambda i: i.raised_at),
        ("Target date", lambda i: i.target_date),
        ("External ticket link", lambda i: i.external_ticket_url),
        ("Description", lambda i: i.description),
        ("Resolution", lambda i: i.resolution),
        ("Resolved date", lambda i: i.resolved_on),
        ("Days open", lambda i: i.days_open),
        ("From risk", lambda i: i.source_risk.reference if hasattr(i, "source_risk") else ""),
    ),
    title="Issues Log",
    section="issues-log",
    lede="Active problems that need resolving.",
    create_heading="New issue",
    status_error="Choose one of the statuses.",
    created_message=lambda i: f"{i.reference} “{i.title}” added to the Issues Log.",
)


def _detail(request, account, issue, *, note_form):
    context = detail_context(request, ISSUES, account, issue)
    return {**context, "notes": issue_note_list(issue_id=issue.pk), "note_form": note_form}


def issue_detail_view(request, spec: LogSpec, account_id: int, item_id: int):
    account, issue = item_or_404(request, spec, account_id, item_id, edit=False)
    context = _detail(request, account, issue, note_form=IssueNoteForm())
    return render(request, spec.detail_template, context)


@require_POST
def issue_note_add_view(request, account_id: int, issue_id: int):
    account, issue = item_or_404(request, ISSUES, account_id, issue_id, edit=True)
    form = IssueNoteForm(request.POST)
    if form.is_valid():
        try:
            with submission_once(form=form, user=request.user):
                issue_note_add(issue=issue, actor=request.user, body=form.cleaned_data["body"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if not request.htmx:
                messages.success(request, "Update added.")
                return redirect(issue.get_absolute_url() + "#updates")
            form = IssueNoteForm()
    context = _detail(request, account, issue, note_form=form)
    if request.htmx:
        return render(request, "logs/_issue_notes.html", context)
    return render(request, ISSUES.detail_template, context)
