from django.urls import path

from handoff.closeout import views

app_name = "closeout"

urlpatterns = [
    path("accounts/<int:account_id>/handoff/", views.handoff_page, name="handoff"),
    path("accounts/<int:account_id>/handoff.md", views.handoff_markdown, name="handoff_markdown"),
    path(
        "accounts/<int:account_id>/handoff/request/", views.handoff_request, name="handoff_request"
    ),
    path(
        "accounts/<int:account_id>/handoff/withdraw/",
        views.handoff_withdraw,
        name="handoff_withdraw",
    ),
    path(
        "accounts/<int:account_id>/handoff/acknowledge/",
        views.handoff_acknowledge,
        name="handoff_acknowledge",
    ),
    path(
        "accounts/<int:account_id>/handoff/reviewed/",
        views.handoff_mark_reviewed,
        name="handoff_mark_reviewed",
    ),
    path(
        "accounts/<int:account_id>/checklist/start/", views.checklist_start, name="checklist_start"
    ),
    path(
        "accounts/<int:account_id>/checklist/<int:item_id>/",
        views.checklist_item_update,
        name="checklist_item",
    ),
    path("accounts/<int:account_id>/sign-off/", views.sign_off, name="sign_off"),
    path(
        "accounts/<int:account_id>/sign-offs/<int:sign_off_id>/",
        views.sign_off_detail,
        name="sign_off_detail",
    ),
    path(
        "accounts/<int:account_id>/sign-offs/<int:sign_off_id>.md",
        views.sign_off_markdown,
        name="sign_off_markdown",
    ),
    path("accounts/<int:account_id>/reopen/", views.reopen, name="reopen"),
]
