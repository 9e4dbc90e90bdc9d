from django.urls import path

from logs.views import issues, journal, opportunities, overview, risks

app_name = "logs"

_account = "accounts/<int:account_id>"

urlpatterns = [
    # Implementation notes
    path(f"{_account}/notes/", journal.journal_list_view, name="journal_list"),
    path(f"{_account}/notes/new/", journal.journal_create_view, name="journal_create"),
    path(f"{_account}/notes/export.csv", journal.journal_export_view, name="journal_export"),
    path(f"{_account}/notes/<int:entry_id>/", journal.journal_entry_view, name="journal_entry"),
    path(f"{_account}/notes/<int:entry_id>/edit/", journal.journal_edit_view, name="journal_edit"),
    # Issues Log
    path(f"{_account}/issues/", issues.issue_list_view, name="issue_list"),
    path(f"{_account}/issues/new/", issues.issue_create_view, name="issue_create"),
    path(f"{_account}/issues/export.csv", issues.issue_export_view, name="issue_export"),
    path(f"{_account}/issues/<int:issue_id>/", issues.issue_detail_view, name="issue_detail"),
    path(f"{_account}/issues/<int:issue_id>/row/", issues.issue_row_view, name="issue_row"),
    path(f"{_account}/issues/<int:issue_id>/edit/", issues.issue_edit_view, name="issue_edit"),
    path(
        f"{_account}/issues/<int:issue_id>/status/",
        issues.issue_status_view,
        name="issue_status",
    ),
    path(
        f"{_account}/issues/<int:issue_id>/updates/",
        issues.issue_note_add_view,
        name="issue_note_add",
    ),
    # Risk Log
    path(f"{_account}/risks/", risks.risk_list_view, name="risk_list"),
    path(f"{_account}/risks/new/", risks.risk_create_view, name="risk_create"),
    path(f"{_account}/risks/export.csv", risks.risk_export_view, name="risk_export"),
    path(f"{_account}/risks/<int:risk_id>/", risks.risk_detail_view, name="risk_detail"),
    path(f"{_account}/risks/<int:risk_id>/row/", risks.risk_row_view, name="risk_row"),
    path(f"{_account}/risks/<int:risk_id>/edit/", risks.risk_edit_view, name="risk_edit"),
    path(f"{_account}/risks/<int:risk_id>/status/", risks.risk_status_view, name="risk_status"),
    path(
        f"{_account}/risks/<int:risk_id>/occurred/",
        risks.risk_occurred_view,
        name="risk_occurred",
    ),
    # Expansion Opportunities
    path(
        f"{_account}/opportunities/",
        opportunities.opportunity_list_view,
        name="opportunity_list",
    ),
    path(
        f"{_account}/opportunities/new/",
        opportunities.opportunity_create_view,
        name="opportunity_create",
    ),
    path(
        f"{_account}/opportunities/export.csv",
        opportunities.opportunity_export_view,
        name="opportunity_export",
    ),
    path(
        f"{_account}/opportunities/<int:opportunity_id>/",
        opportunities.opportunity_detail_view,
        name="opportunity_detail",
    ),
    path(
        f"{_account}/opportunities/<int:opportunity_id>/row/",
        opportunities.opportunity_row_view,
        name="opportunity_row",
    ),
    path(
        f"{_account}/opportunities/<int:opportunity_id>/edit/",
        opportunities.opportunity_edit_view,
        name="opportunity_edit",
    ),
    path(
        f"{_account}/opportunities/<int:opportunity_id>/stage/",
        opportunities.opportunity_stage_view,
        name="opportunity_stage",
    ),
    # Across accounts
    path("issues/", overview.issue_overview_view, name="issue_overview"),
    path("risks/", overview.risk_heatmap_view, name="risk_heatmap"),
]
