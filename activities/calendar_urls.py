from django.urls import path

from activities import calendar_views

urlpatterns = [
    path("", calendar_views.calendar, name="calendar"),
    path("reschedule/", calendar_views.calendar_reschedule, name="calendar_reschedule"),
    path("feed/<str:token>.ics", calendar_views.calendar_feed, name="calendar_feed"),
    path("feed/regenerate/", calendar_views.calendar_token_regenerate, name="calendar_token_regenerate"),
]
