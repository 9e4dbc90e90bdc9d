from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.html import format_html_join

from handoff.common.admin import CheckedSelectionMixin, StaffAdminMixin, admin_use_allowed
from handoff.people.models import User

# Django's own powers, which no portal role needs: superuser status passes every check, and
# groups and permissions grant Django's model permissions. Only a superuser sees and sets them;
# staff who could would make anyone, themselves included, a superuser.
SUPERUSER_ONLY_FIELDS = ("is_superuser", "groups", "user_permissions")


@admin.register(User)
class PortalUserAdmin(CheckedSelectionMixin, StaffAdminMixin, UserAdmin):
    """The portal's admins (staff) manage people here: create them, set their names, e-mail,
    role, active and staff flags, and reset their passwords.

    Only a superuser grants superuser status, groups and permissions, changes a superuser's
    account (staff read it, and a post to it or to its password form is refused) or deletes
    anyone; staff deactivate people instead, which keeps their history."""

    list_display = ("username", "first_name", "last_name", "email", "role", "is_staff", "is_active")
    list_filter = ("role", "is_staff", "is_active")
    fieldsets = (
        *UserAdmin.fieldsets,
        ("Role in the handoff", {"fields": ("role",)}),
        # Written by sign-in with SSO only (handoff/people/services.py), so read here.
        ("Sign-in with SSO", {"fields": ("sso_identities_display", "sso_claim_allowed")}),
    )
    add_fieldsets = (
        *UserAdmin.add_fieldsets,
        ("Role in the handoff", {"fields": ("first_name", "last_name", "email", "role")}),
    )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        return [
            (name, {**options, "fields": _without_superuser_only(options["fields"])})
            for name, options in fieldsets
        ]

    @admin.display(description="Identities at the identity provider")
    def sso_identities_display(self, obj):
        identities = obj.sso_identities.order_by("issuer", "subject") if obj and obj.pk else []
        return (
            format_html_join(
                "",
                "<p><code>{}</code> at <code>{}</code>, last sign-in {}</p>",
                ((i.subject, i.issuer, i.last_sign_in_at or "never") for i in identities),
            )
            or "None: this person does not sign in with SSO."
        )

    def get_readonly_fields(self, request, obj=None):
        readonly = (*super().get_readonly_fields(request, obj), "sso_identities_display")
        if request.user.is_superuser:
            return readonly
        # Read-only fields are left out of the form, so a forged post of them is ignored even
        # if the fieldsets above ever showed one.
        return (*readonly, *SUPERUSER_ONLY_FIELDS)

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or not obj.is_superuser or request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return admin_use_allowed(request) and request.user.is_superuser


def _without_superuser_only(fields):
    return tuple(name for name in fields if name not in SUPERUSER_ONLY_FIELDS)
