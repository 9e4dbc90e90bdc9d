from django.contrib import admin

from handoff.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor_name", "action", "object_type", "object_repr", "account")
    list_filter = ("action", "object_type")
    search_fields = ("object_repr", "actor_name", "request_id", "message")
    list_select_related = ("account",)
    date_hierarchy = "created_at"

    # The audit trail is evidence: nobody edits or deletes it, not even staff.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
