"""Read-only admin: the deployment record is written through the portal's forms and services
(audit trail, versions, the account's change version); staff can look, not edit here."""

from django.contrib import admin

from deployments.models import CodeHostConnection, DesignDocument, Environment, InstanceTypeRow
from handoff.common.admin import ReadOnlyStaffAdminMixin


class DesignDocumentInline(ReadOnlyStaffAdminMixin, admin.TabularInline):
    model = DesignDocument
    fields = ("position", "title", "url")
    extra = 0


class InstanceTypeRowInline(ReadOnlyStaffAdminMixin, admin.TabularInline):
    model = InstanceTypeRow
    fields = ("position", "count", "instance_type")
    extra = 0


@admin.register(Environment)
class EnvironmentAdmin(ReadOnlyStaffAdminMixin, admin.ModelAdmin):
    list_display = (
        "account",
        "kind",
        "name",
        "deployment_type",
        "hosting_provider",
        "total_cpu",
        "total_memory_gb",
        "version",
    )
    list_filter = ("kind", "deployment_type", "hosting_provider")
    search_fields = ("account__name", "name", "sourcegraph_instance_url")
    list_select_related = ("account",)
    inlines = [DesignDocumentInline, InstanceTypeRowInline]


@admin.register(CodeHostConnection)
class CodeHostConnectionAdmin(ReadOnlyStaffAdminMixin, admin.ModelAdmin):
    list_display = (
        "account",
        "kind",
        "display_name",
        "repository_count",
        "monorepo_count",
        "largest_repository_mb",
        "version",
    )
    list_filter = ("kind",)
    search_fields = ("account__name", "display_name", "url")
    list_select_related = ("account",)
