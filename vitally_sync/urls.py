from django.urls import path

from vitally_sync import views

app_name = "vitally_sync"

urlpatterns = [
    path("accounts/<int:account_id>/vitally/", views.vitally_panel_view, name="panel"),
    path("accounts/<int:account_id>/vitally/push/", views.vitally_push_view, name="push"),
    path("metrics", views.metrics_view, name="metrics"),
]
