from django.urls import path

from reports import builder_views, team_views, views

urlpatterns = [
    path("reports/", views.section_reports, name="reports"),
    path("reports/analysis/", views.sales_analysis, name="reports_analysis"),
    path("reports/team/", team_views.team_dashboard, name="reports_team"),
    path("reports/service/", views.service_dashboard, name="reports_service"),
    path("reports/sources/", views.lead_sources, name="reports_sources"),
    path("reports/marketing/", views.marketing_dashboard, name="reports_marketing"),
    path("reports/customers/", views.customers_dashboard, name="reports_customers"),
    path("reports/subscriptions/", views.report_subscriptions, name="report_subscriptions"),
    path("reports/subscriptions/<int:pk>/delete/", views.report_unsubscribe, name="report_unsubscribe"),
    path("reports/builder/", builder_views.report_builder, name="report_builder"),
    path("reports/builder/export/", builder_views.report_export, name="report_export"),
    path("reports/builder/save/", builder_views.report_save, name="report_save"),
    path("reports/saved/", builder_views.saved_reports, name="saved_reports"),
    path("reports/saved/<int:pk>/", builder_views.saved_report, name="saved_report"),
    path("reports/saved/<int:pk>/copy/", builder_views.report_copy, name="report_copy"),
    path("reports/saved/<int:pk>/delete/", builder_views.report_delete, name="report_delete"),
    path("reports/saved/<int:pk>/schedules/", builder_views.saved_report_schedules, name="saved_report_schedules"),
    path("reports/schedules/<int:pk>/delete/", builder_views.schedule_delete, name="schedule_delete"),
    path("reports/runs/<int:pk>/retry/", builder_views.run_retry, name="run_retry"),
]
