"""Issue 14, item 3: every free-text field has a maximum (a note 20,000 characters, with a
counter), Markdown keeps line breaks, and long values fold in History and the change list."""

import re

import pytest
from django import forms as django_forms
from django.urls import reverse

from deployments.forms import EnvironmentForm
from handoff.accounts.forms import AccountForm
from handoff.audit.models import AuditEvent
from handoff.closeout.forms import ChecklistItemForm, ReopenForm, SignOffForm
from handoff.common.forms import NOTE_LIMIT, TEXT_LIMIT
from logs.forms import (
    IssueForm,
    IssueNoteForm,
    IssueStatusForm,
    JournalEntryForm,
    OpportunityForm,
    RiskForm,
)
from logs.markdown import render_markdown
from logs.models import JournalEntry
from logs.services import journal_entry_create, journal_entry_update
from tests.factories import form_token

pytestmark = pytest.mark.django_db


def url(name, account, *items):
    return reverse(f"logs:{name}", args=[account.pk, *[i.pk for i in items]])


def _form(form_class, account):
    if form_class is AccountForm:
        return form_class(instance=account, user=account.implementation_engineer)
    if form_class is EnvironmentForm:
        return form_class(production=True)
    if form_class is ChecklistItemForm:
        from handoff.closeout.models import ChecklistItem

        return form_class(instance=ChecklistItem(account=account, position=1, title="x"))
    if issubclass(form_class, django_forms.ModelForm):
        return form_class(instance=form_class._meta.model(account=account))
    return form_class()


@pytest.mark.parametrize(
    "form_class",
    [
        AccountForm,
        EnvironmentForm,
        JournalEntryForm,
        IssueForm,
        IssueStatusForm,
        IssueNoteForm,
        RiskForm,
        OpportunityForm,
        ChecklistItemForm,
        SignOffForm,
        ReopenForm,
    ],
)
def test_every_free_text_field_has_a_maximum_and_a_counter(form_class, account):
    form = _form(form_class, account)
    for name, field in form.fields.items():
        if not isinstance(field, django_forms.CharField) or field.widget.is_hidden:
            continue
        assert field.max_length, f"{form_class.__name__}.{name} has no maximum"
        html = str(form[name])
        assert f'maxlength="{field.max_length}"' in html, name
        if isinstance(field.widget, django_forms.Textarea):
            assert field.max_length <= NOTE_LIMIT
            assert "data-counter" in html, name


def test_a_note_takes_20000_characters_and_the_rest_a_smaller_maximum(account):
    assert JournalEntryForm(instance=JournalEntry(account=account)).fields["body"].max_length == (
        NOTE_LIMIT
    )
    assert IssueStatusForm().fields["resolution"].max_length == TEXT_LIMIT


def test_a_note_over_the_limit_is_refused_beside_the_field_and_nothing_is_saved(
    client_for, account, ie
):
    data = {
        "title": "Limits",
        "category": "general",
        "kind": "info",
        "body": "x" * (NOTE_LIMIT + 1),
        "submission": form_token(),
    }
    response = client_for(ie).post(url("journal_create", account), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert re.search(
        r'<p class="error" id="[\w-]*body_error">Ensure this value has at most 20000 characters '
        r"\(it has 20001\)\.</p>",
        page,
    ), page
    assert not JournalEntry.objects.exists()
    assert not AuditEvent.objects.exists()
    data["body"] = "x" * NOTE_LIMIT
    assert client_for(ie).post(url("journal_create", account), data).status_code == 302
    assert len(JournalEntry.objects.get().body) == NOTE_LIMIT


def test_an_edit_over_the_limit_changes_nothing(client_for, account, ie):
    entry = journal_entry_create(account=account, author=ie, title="Limits", body="short")
    edit = {
        "title": "Limits",
        "category": "general",
        "kind": "info",
        "body": "y" * (NOTE_LIMIT + 5),
        "version": 1,
    }
    response = client_for(ie).post(url("journal_edit", account, entry), edit)
    assert response.status_code == 200
    assert "at most 20000 characters" in response.content.decode()
    entry.refresh_from_db()
    assert entry.body == "short" and entry.version == 1


def test_a_notes_line_breaks_survive_rendering(client_for, account, ie):
    journal_entry_create(
        account=account, author=ie, title="Steps", body="First line\nsecond line\n\nNew paragraph"
    )
    assert "First line<br" in render_markdown("First line\nsecond line")
    page = client_for(ie).get(url("journal_list", account)).content.decode()
    assert re.search(r"<p>First line<br\s*/?>\s*second line</p>", page), page
    assert "<p>New paragraph</p>" in page


def test_a_long_value_folds_in_history_with_the_whole_value_a_click_away(client_for, account, ie):
    entry = journal_entry_create(account=account, author=ie, title="Limits", body="a" * 50)
    long_body = "b" * 300 + "END"
    journal_entry_update(
        entry=entry,
        actor=ie,
        data={"body": long_body},
        expected_version=entry.version,
    )
    page = client_for(ie).get(reverse("accounts:history", args=[account.pk])).content.decode()
    after = re.search(r'<td class="after">(.*?)</td>', page, flags=re.S).group(1)
    assert '<details class="folded-value">' in after
    assert "b" * 199 + "…" in after  # the first 200 characters (the ellipsis included)
    assert "Show all 303 characters" in after
    assert f'<p class="value-full">{long_body}</p>' in after
    before = re.search(r'<td class="before">(.*?)</td>', page, flags=re.S).group(1)
    assert before.strip() == "a" * 50  # a short value shows as it is, unfolded
