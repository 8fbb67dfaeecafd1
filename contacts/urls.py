from django.urls import path

from contacts import merge_views, vcard_views, views
from contacts.lists import ContactList
from crm.lists import ListView

app_name = "contacts"

urlpatterns = [
    path("", ListView.as_view(page=ContactList), name="list"),
    path("new/", views.contact_create, name="create"),
    path("bulk/", ListView.as_view(page=ContactList, bulk=True), name="bulk"),
    path("<int:pk>/", views.contact_detail, name="detail"),
    path("<int:pk>/edit/", views.contact_edit, name="edit"),
    path("<int:pk>/delete/", views.contact_delete, name="delete"),
    path("<int:pk>/merge/", merge_views.contact_merge, name="merge"),
    path("<int:pk>/personal-data/", views.contact_personal_data, name="personal_data"),
    path("<int:pk>/erase/", views.contact_erase, name="erase"),
    path("import/vcard/", vcard_views.vcard_import, name="vcard_import"),
    path("export/vcard/", vcard_views.vcard_export, name="vcard_export"),
]
