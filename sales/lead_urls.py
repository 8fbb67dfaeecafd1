"""Leads: list, queue, entry, distribution rules and conversion (included by sales/urls.py)."""

from django.urls import path

from crm.lists import ListView
from sales import lead_views
from sales.lists import LeadList, LeadQueue

urlpatterns = [
    path("leads/", ListView.as_view(page=LeadList), name="lead_list"),
    path("leads/queue/", ListView.as_view(page=LeadQueue), name="lead_queue"),
    path("leads/new/", lead_views.lead_create, name="lead_create"),
    path("leads/bulk/", ListView.as_view(page=LeadList, bulk=True), name="lead_bulk"),
    path("leads/duplicates/", lead_views.lead_duplicates, name="lead_duplicates"),
    path("leads/rules/", lead_views.lead_rules, name="lead_rules"),
    path("leads/rules/<int:pk>/", lead_views.lead_rule_edit, name="lead_rule_edit"),
    path("leads/rules/<int:pk>/delete/", lead_views.lead_rule_delete, name="lead_rule_delete"),
    path("leads/rules/<int:pk>/move/", lead_views.lead_rule_move, name="lead_rule_move"),
    path("leads/<int:pk>/", lead_views.lead_detail, name="lead_detail"),
    path("leads/<int:pk>/edit/", lead_views.lead_edit, name="lead_edit"),
    path("leads/<int:pk>/status/", lead_views.lead_status, name="lead_status"),
    path("leads/<int:pk>/delete/", lead_views.lead_delete, name="lead_delete"),
    path("leads/<int:pk>/convert/", lead_views.lead_convert, name="lead_convert"),
]
