from django.urls import path

from reports import views

urlpatterns = [
    path("service/", views.section_service, name="service"),
    path("reports/", views.section_reports, name="reports"),
]
