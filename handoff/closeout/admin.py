from django.contrib import admin

from handoff.closeout.models import ChecklistTemplateItem, CompletionReminder, SignOff
from handoff.closeout.services import (
    TEMPLATE_ITEM_FIELDS,
    checklist_template_item_create,
    checklist_template_item_update,
)


class _StaffMixin:
    """The portal's admins are its staff (the permission matrix's "Admin (staff)")."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff


@admin.register(ChecklistTemplateItem)
class ChecklistTemplateItemAdmin(_StaffMixin, admin.ModelAdmin):
    """The closeout definition new checklists are copied from. Checklists already started keep
    their own items; deactivate an item instead of deleting it."""

    list_display = ("title", "position", "is_active", "updated_at")
    list_editable = ("position", "is_active")
    list_filter = ("is_active",)
    search_fields = ("title", "guidance")
    fields = TEMPLATE_ITEM_FIELDS

    def has_add_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_delete_permission(self, request, obj=None):
        return False

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


class _ReadOnlyAdmin(_StaffMixin, admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SignOff)
class SignOffAdmin(_ReadOnlyAdmin):
    """Evidence: nobody edits a sign-off or its snapshot, not even staff."""

    list_display = ("account", "signed_by_name", "signed_at", "readiness_percent", "reopened_at")
    list_select_related = ("account",)
    search_fields = ("account__name", "signed_by_name", "override_reason")
    date_hierarchy = "signed_at"


@admin.register(CompletionReminder)
class CompletionReminderAdmin(_ReadOnlyAdmin):
    list_display = ("account", "planned_completion_date", "sent_at")
    list_select_related = ("account",)
    search_fields = ("account__name",)
