from django.urls import path

from reports import views

urlpatterns = [
    path("reports/", views.section_reports, name="reports"),
    path("reports/analysis/", views.sales_analysis, name="reports_analysis"),
    path("reports/subscriptions/", views.report_subscriptions, name="report_subscriptions"),
    path("reports/subscriptions/<int:pk>/delete/", views.report_unsubscribe, name="report_unsubscribe"),
]
