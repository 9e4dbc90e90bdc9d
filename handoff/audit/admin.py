from django.contrib import admin

from handoff.audit.models import AuditEvent
from handoff.common.admin import ReadOnlyStaffAdminMixin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyStaffAdminMixin, admin.ModelAdmin):
    """The audit trail is evidence: staff read it; nobody adds, edits or deletes it, not even
    a superuser (ReadOnlyStaffAdminMixin)."""

    list_display = ("created_at", "actor_name", "action", "object_type", "object_repr", "account")
    list_filter = ("action", "object_type")
    search_fields = ("object_repr", "actor_name", "request_id", "message")
    list_select_related = ("account",)
    date_hierarchy = "created_at"
