from django.urls import path

from logs.views import journal, overview
from logs.views.generic import log_urls
from logs.views.issues import ISSUES, issue_detail_view, issue_note_add_view
from logs.views.opportunities import OPPORTUNITIES
from logs.views.risks import RISKS, risk_occurred_view

app_name = "logs"

_account = "accounts/<int:account_id>"

urlpatterns = [
    # Implementation notes
    path(f"{_account}/notes/", journal.journal_list_view, name="journal_list"),
    path(f"{_account}/notes/new/", journal.journal_create_view, name="journal_create"),
    path(f"{_account}/notes/export.csv", journal.journal_export_view, name="journal_export"),
    path(f"{_account}/notes/<int:entry_id>/", journal.journal_entry_view, name="journal_entry"),
    path(f"{_account}/notes/<int:entry_id>/edit/", journal.journal_edit_view, name="journal_edit"),
    # Issues Log, Risk Log, Expansion Opportunities: list, new, export.csv, <id>/, <id>/row/,
    # <id>/edit/, <id>/status/ (an opportunity's is <id>/stage/); see logs/views/generic.py
    *log_urls(ISSUES, detail=issue_detail_view),
    path(f"{_account}/issues/<int:issue_id>/updates/", issue_note_add_view, name="issue_note_add"),
    *log_urls(RISKS),
    path(f"{_account}/risks/<int:risk_id>/occurred/", risk_occurred_view, name="risk_occurred"),
    *log_urls(OPPORTUNITIES),
    # Across accounts
    path("issues/", overview.issue_overview_view, name="issue_overview"),
    path("risks/", overview.risk_heatmap_view, name="risk_heatmap"),
]
