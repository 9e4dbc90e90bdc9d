from django.urls import path

from handoff.accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.my_work_view, name="my_work"),
    path("my-work/count/", views.my_work_count_view, name="my_work_count"),
    path("accounts/", views.dashboard_view, name="dashboard"),
    path("mine/", views.my_accounts_view, name="mine"),  # the former My accounts page
    path("accounts/new/", views.account_create_view, name="create"),
    path("accounts/<int:account_id>/", views.account_detail_view, name="detail"),
    path("accounts/<int:account_id>/edit/", views.account_edit_view, name="edit"),
    path("accounts/<int:account_id>/history/", views.account_history_view, name="history"),
]
