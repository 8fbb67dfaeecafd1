"""Staff pages of the portal app (staff sign-in)."""

from django.urls import path

from portal import staff_views

app_name = "portal_staff"

urlpatterns = [
    path("feedback/", staff_views.feedback, name="feedback"),
    path("contacts/<int:contact_pk>/invite/", staff_views.invite, name="invite"),
    path("contacts/<int:contact_pk>/access/", staff_views.access, name="access"),
]
