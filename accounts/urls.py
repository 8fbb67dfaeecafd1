from django.urls import path

from accounts import merge_views, views
from accounts.lists import AccountList
from crm.lists import ListView

app_name = "accounts"

urlpatterns = [
    path("", ListView.as_view(page=AccountList), name="list"),
    path("new/", views.account_create, name="create"),
    path("bulk/", ListView.as_view(page=AccountList, bulk=True), name="bulk"),
    path("<int:pk>/", views.account_detail, name="detail"),
    path("<int:pk>/edit/", views.account_edit, name="edit"),
    path("<int:pk>/delete/", views.account_delete, name="delete"),
    path("<int:pk>/merge/", merge_views.account_merge, name="merge"),
]
