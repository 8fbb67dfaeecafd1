from django.urls import path

from reports import views

urlpatterns = [
    path("reports/", views.section_reports, name="reports"),
]
