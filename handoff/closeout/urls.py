from django.urls import path

from handoff.closeout import views

app_name = "closeout"

urlpatterns = [
    path("accounts/<int:account_id>/handoff/", views.handoff_page_view, name="handoff"),
    path(
        "accounts/<int:account_id>/handoff.md", views.handoff_markdown_view, name="handoff_markdown"
    ),
    path(
        "accounts/<int:account_id>/handoff/request/confirm/",
        views.handoff_request_confirm_view,
        name="handoff_request_confirm",
    ),
    path(
        "accounts/<int:account_id>/handoff/request/",
        views.handoff_request_view,
        name="handoff_request",
    ),
    path(
        "accounts/<int:account_id>/handoff/withdraw/",
        views.handoff_withdraw_view,
        name="handoff_withdraw",
    ),
    path(
        "accounts/<int:account_id>/handoff/acknowledge/",
        views.handoff_acknowledge_view,
        name="handoff_acknowledge",
    ),
    path(
        "accounts/<int:account_id>/handoff/reviewed/",
        views.handoff_mark_reviewed_view,
        name="handoff_mark_reviewed",
    ),
    path(
        "accounts/<int:account_id>/checklist/start/",
        views.checklist_start_view,
        name="checklist_start",
    ),
    path(
        "accounts/<int:account_id>/checklist/<int:item_id>/",
        views.checklist_item_update_view,
        name="checklist_item",
    ),
    path("accounts/<int:account_id>/sign-off/", views.sign_off_view, name="sign_off"),
    path(
        "accounts/<int:account_id>/sign-offs/<int:sign_off_id>/",
        views.sign_off_detail_view,
        name="sign_off_detail",
    ),
    path(
        "accounts/<int:account_id>/sign-offs/<int:sign_off_id>.md",
        views.sign_off_markdown_view,
        name="sign_off_markdown",
    ),
    path("accounts/<int:account_id>/reopen/", views.reopen_view, name="reopen"),
]
