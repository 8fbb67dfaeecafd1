"""The customer portal (customers; portal sign-in) and the survey link (no sign-in at all)."""

from django.urls import path

from portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", views.sign_in, name="login"),
    path("sign-out/", views.sign_out, name="logout"),
    path("password/reset/", views.reset_request, name="password_reset"),
    path("password/<str:token>/", views.set_password, name="set_password"),
    path("language/", views.set_language, name="language"),
    path("tickets/new/", views.ticket_new, name="ticket_new"),
    path("tickets/<int:pk>/", views.ticket_detail, name="ticket"),
    path("tickets/<int:pk>/reply/", views.ticket_reply, name="ticket_reply"),
    path("tickets/<int:pk>/rate/", views.ticket_rate, name="ticket_rate"),
    path("tickets/<int:pk>/files/<int:attachment_pk>/", views.attachment, name="attachment"),
    path("help/", views.help_list, name="help"),
    path("help/<int:pk>/", views.help_article, name="help_article"),
    path("survey/<str:token>/", views.survey, name="survey"),
]
