from django.urls import path

from reports import views

urlpatterns = [
    path("service/", views.section_service, name="service"),
    path("marketing/", views.section_marketing, name="marketing"),
    path("reports/", views.section_reports, name="reports"),
    path("reports/analysis/", views.sales_analysis, name="reports_analysis"),
]
