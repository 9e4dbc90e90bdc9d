from django.urls import path

from deployments import views

app_name = "deployments"

urlpatterns = [
    path(
        "accounts/<int:account_id>/deployment/production/",
        views.production_edit_view,
        name="production_edit",
    ),
    path(
        "accounts/<int:account_id>/environments/new/",
        views.environment_create_view,
        name="environment_create",
    ),
    path(
        "accounts/<int:account_id>/environments/<int:environment_id>/edit/",
        views.environment_edit_view,
        name="environment_edit",
    ),
    path(
        "accounts/<int:account_id>/environments/<int:environment_id>/remove/",
        views.environment_delete_view,
        name="environment_delete",
    ),
    path(
        "accounts/<int:account_id>/environments/instance-check/",
        views.instance_check_view,
        name="instance_check",
    ),
    path(
        "accounts/<int:account_id>/code-hosts/", views.code_hosts_edit_view, name="code_hosts_edit"
    ),
]
