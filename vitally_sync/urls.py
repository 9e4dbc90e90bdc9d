from django.urls import path

from vitally_sync import views

app_name = "vitally_sync"

urlpatterns = [
    path("vitally/", views.sync_health_view, name="health"),
    path("accounts/<int:account_id>/vitally/", views.vitally_panel_view, name="panel"),
    path("accounts/<int:account_id>/vitally/push/", views.vitally_push_view, name="push"),
    path("accounts/<int:account_id>/vitally/read/", views.vitally_read_view, name="read"),
    path("metrics", views.metrics_view, name="metrics"),
    path(
        "accounts/<int:account_id>/vitally/differences/<int:difference_id>/keep/",
        views.difference_keep_view,
        name="difference_keep",
    ),
    path(
        "accounts/<int:account_id>/vitally/differences/<int:difference_id>/take/",
        views.difference_take_view,
        name="difference_take",
    ),
    path(
        "accounts/<int:account_id>/vitally/notes/<int:note_id>/send/",
        views.note_send_view,
        name="note_send",
    ),
    path(
        "accounts/<int:account_id>/vitally/notes/<int:note_id>/leave/",
        views.note_leave_view,
        name="note_leave",
    ),
    path(
        "accounts/<int:account_id>/vitally/differences/take-all/",
        views.differences_take_all_view,
        name="differences_take_all",
    ),
]

# --- the accounts mirror (vitally_sync/mirror.py): the form's search and the import -----------
from vitally_sync import mirror_views  # noqa: E402

urlpatterns += [
    path("vitally/accounts/search/", mirror_views.account_search_view, name="account_search"),
    path("vitally/import/", mirror_views.vitally_import_view, name="import"),
]
