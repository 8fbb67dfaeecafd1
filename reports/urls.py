from django.urls import path

from reports import views

urlpatterns = [
    path("marketing/", views.section_marketing, name="marketing"),
    path("reports/", views.section_reports, name="reports"),
]
