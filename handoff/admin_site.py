"""The portal's admin site: who may sign in to the admin is decided by handoff/permissions.py
(`Action.ADMIN_USE`), as every admin class decides through handoff/common/admin.py, instead of
Django's own `is_active and is_staff` test, so the two can never disagree."""

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig


class PortalAdminSite(AdminSite):
    site_header = "Handoff administration"
    site_title = "Handoff admin"

    def has_permission(self, request) -> bool:
        # Imported here: this module is loaded with INSTALLED_APPS, before any model.
        from handoff.common.admin import admin_use_allowed

        return admin_use_allowed(request)


class PortalAdminConfig(AdminConfig):
    default_site = "handoff.admin_site.PortalAdminSite"
