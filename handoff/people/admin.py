from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from handoff.common.admin import CheckedSelectionMixin
from handoff.people.models import User


@admin.register(User)
class PortalUserAdmin(CheckedSelectionMixin, UserAdmin):
    list_display = ("username", "first_name", "last_name", "email", "role", "is_staff", "is_active")
    list_filter = ("role", "is_staff", "is_active")
    fieldsets = (
        *UserAdmin.fieldsets,
        ("Role in the handoff", {"fields": ("role",)}),
    )
    add_fieldsets = (
        *UserAdmin.add_fieldsets,
        ("Role in the handoff", {"fields": ("first_name", "last_name", "email", "role")}),
    )
