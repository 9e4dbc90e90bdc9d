"""Helpers the portal's admin classes share.

Who may use the admin is the portal's decision, not Django's model permissions (which no portal
user is granted): every portal admin mixes in `StaffAdminMixin` (or `ReadOnlyStaffAdminMixin`),
whose checks ask `handoff/permissions.py` (`Action.ADMIN_USE`, the permission matrix's
"Admin (staff)" column)."""

from django.contrib import messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import ValidationError

from handoff.permissions import Action, can


def admin_use_allowed(request) -> bool:
    """Whether the person behind `request` is one of the portal's admins (active staff)."""
    return can(request.user, Action.ADMIN_USE)


class StaffAdminMixin:
    """The portal's admins see the module, read its rows, add and change them; nobody deletes
    (accounts, template items and sync states carry history; deactivate instead).

    The `obj=None` on `has_add_permission` lets inlines (which pass the parent) share it. An
    admin that allows less overrides a method and calls `super()` first."""

    def has_module_permission(self, request):
        return admin_use_allowed(request)

    def has_view_permission(self, request, obj=None):
        return admin_use_allowed(request)

    def has_add_permission(self, request, obj=None):
        return admin_use_allowed(request)

    def has_change_permission(self, request, obj=None):
        return admin_use_allowed(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_changelist_instance(self, request):
        """A NUL character in the changelist's query string (a filter's value, the search) went
        into the query, and PostgreSQL refuses NUL in text (DataError): a 500, found by the web
        scanner (`make scan`). No real value holds one: treat it as the malformed lookup
        Django's admin already answers, with a redirect to the unfiltered list (`?e=1`)."""
        if any("\x00" in key + "".join(values) for key, values in request.GET.lists()):
            raise IncorrectLookupParameters("NUL in the query string")
        return super().get_changelist_instance(request)


class ReadOnlyStaffAdminMixin(StaffAdminMixin):
    """Rows written only through the portal's services (audit event, versions, change version)
    or by the workers: the portal's admins look, nobody adds, changes or deletes here, not even
    a superuser."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CheckedSelectionMixin:
    """Django's admin filters the changelist by the posted `_selected_action` ids as they come, so
    a forged id that is no primary key at all ("abc") fails in the query: a 500. Refuse such a
    selection with a message instead, and change nothing."""

    def response_action(self, request, queryset):
        pk = self.model._meta.pk
        try:
            for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                pk.to_python(value)
        except ValidationError:
            self.message_user(
                request,
                "The selection is not valid, so no action was run and nothing was changed.",
                messages.ERROR,
            )
            return None  # the changelist redirects back to itself and shows the message
        return super().response_action(request, queryset)
