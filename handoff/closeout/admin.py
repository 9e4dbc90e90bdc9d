from django.contrib import admin

from handoff.closeout.models import ChecklistTemplateItem, CompletionReminder, SignOff
from handoff.closeout.services import (
    TEMPLATE_ITEM_FIELDS,
    checklist_template_item_create,
    checklist_template_item_update,
)
from handoff.common.admin import ReadOnlyStaffAdminMixin, StaffAdminMixin


@admin.register(ChecklistTemplateItem)
class ChecklistTemplateItemAdmin(StaffAdminMixin, admin.ModelAdmin):
    """The closeout definition new checklists are copied from. Checklists already started keep
    their own items; deactivate an item instead of deleting it."""

    list_display = ("title", "position", "is_active", "updated_at")
    list_editable = ("position", "is_active")
    list_filter = ("is_active",)
    search_fields = ("title", "guidance")
    fields = TEMPLATE_ITEM_FIELDS

    def has_delete_permission(self, request, obj=None):
        return False  # started checklists were copied from it: deactivate instead

    def save_model(self, request, obj, form, change):
        # Admin edits take the services' path: validation and an audit event.
        data = {
            name: form.cleaned_data[name]
            for name in TEMPLATE_ITEM_FIELDS
            if name in form.cleaned_data
        }
        if change:
            saved = checklist_template_item_update(item=obj, actor=request.user, data=data)
        else:
            saved = checklist_template_item_create(actor=request.user, **data)
        obj.pk = saved.pk


@admin.register(SignOff)
class SignOffAdmin(ReadOnlyStaffAdminMixin, admin.ModelAdmin):
    """Evidence: nobody edits a sign-off or its snapshot, not even staff."""

    list_display = ("account", "signed_by_name", "signed_at", "readiness_percent", "reopened_at")
    list_select_related = ("account",)
    search_fields = ("account__name", "signed_by_name", "override_reason")
    date_hierarchy = "signed_at"


@admin.register(CompletionReminder)
class CompletionReminderAdmin(ReadOnlyStaffAdminMixin, admin.ModelAdmin):
    list_display = ("account", "planned_completion_date", "sent_at")
    list_select_related = ("account",)
    search_fields = ("account__name",)
