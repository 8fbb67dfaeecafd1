"""Activity pages. URL names stay global (`activity_create`, `timeline`…): modules link to them by name."""

from django.urls import path

from activities import views
from activities.lists import ActivityList
from crm.lists import ListView

urlpatterns = [
    path("", views.home, name="home"),
    path("activities/", ListView.as_view(page=ActivityList), name="activity_list"),
    path("activities/new/", views.activity_create, name="activity_create"),
    path("activities/<int:pk>/", views.activity_detail, name="activity_detail"),
    path("activities/<int:pk>/edit/", views.activity_edit, name="activity_edit"),
    path("activities/<int:pk>/complete/", views.activity_complete, name="activity_complete"),
    path("activities/<int:pk>/delete/", views.activity_delete, name="activity_delete"),
    path("timeline/", views.timeline, name="timeline"),
]
