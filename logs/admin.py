"""The logs in the admin are read-only: every write goes through the portal's services (audit
event, change version), and entries are never deleted."""

from django.contrib import admin

from handoff.common.admin import ReadOnlyStaffAdminMixin
from logs.models import (
    ExpansionOpportunity,
    Issue,
    IssueNote,
    JournalEntry,
    Risk,
    StaleDigest,
)


class ReadOnlyAdmin(ReadOnlyStaffAdminMixin, admin.ModelAdmin):
    """Staff read every log here; nobody adds, changes or deletes an entry."""


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ("title", "account", "category", "kind", "author", "created_at")
    list_filter = ("category", "kind")
    search_fields = ("title", "body", "account__name")
    list_select_related = ("account", "author")


class IssueNoteInline(ReadOnlyStaffAdminMixin, admin.TabularInline):
    model = IssueNote
    extra = 0
    fields = ("created_at", "author", "body")
    readonly_fields = fields


@admin.register(Issue)
class IssueAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "account", "severity", "status", "owner", "raised_at")
    list_filter = ("severity", "status")
    search_fields = ("title", "description", "account__name")
    list_select_related = ("account", "owner")
    inlines = [IssueNoteInline]


@admin.register(Risk)
class RiskAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "account", "likelihood", "impact", "score", "status", "owner")
    list_filter = ("status", "category", "likelihood", "impact")
    search_fields = ("title", "description", "account__name")
    list_select_related = ("account", "owner")


@admin.register(ExpansionOpportunity)
class ExpansionOpportunityAdmin(ReadOnlyAdmin):
    list_display = ("title", "account", "opportunity_type", "stage", "owner", "created_at")
    list_filter = ("opportunity_type", "stage")
    search_fields = ("title", "account__name")
    list_select_related = ("account", "owner")


@admin.register(StaleDigest)
class StaleDigestAdmin(ReadOnlyAdmin):
    list_display = ("recipient", "sent_on", "item_count")
    list_select_related = ("recipient",)
