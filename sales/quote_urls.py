"""URLs of sales/quote_views.py (included by sales/urls.py)."""

from django.urls import path

from crm.lists import ListView
from sales import quote_views as views
from sales.lists import QuoteList

urlpatterns = [
    path("quotes/", ListView.as_view(page=QuoteList), name="quote_list"),
    path("quotes/new/", views.quote_create, name="quote_create"),
    path("quotes/approvals/", views.approval_list, name="approval_list"),
    path("quotes/<int:pk>/", views.quote_detail, name="quote_detail"),
    path("quotes/<int:pk>/edit/", views.quote_edit, name="quote_edit"),
    path("quotes/<int:pk>/delete/", views.quote_delete, name="quote_delete"),
    path("quotes/<int:pk>/lines/add/", views.quote_line_add, name="quote_line_add"),
    path("quotes/<int:pk>/lines/<int:line_pk>/edit/", views.quote_line_edit, name="quote_line_edit"),
    path("quotes/<int:pk>/lines/<int:line_pk>/delete/", views.quote_line_delete, name="quote_line_delete"),
    path("quotes/<int:pk>/pdf/", views.quote_pdf, name="quote_pdf"),
    path("quotes/<int:pk>/send/", views.quote_send, name="quote_send"),
    path("quotes/<int:pk>/request-approval/", views.quote_request_approval, name="quote_request_approval"),
    path("quotes/<int:pk>/approve/", views.quote_approve, name="quote_approve"),
    path("quotes/<int:pk>/reject-approval/", views.quote_reject_approval, name="quote_reject_approval"),
    path("quotes/<int:pk>/accept/", views.quote_accept, name="quote_accept"),
    path("quotes/<int:pk>/reject/", views.quote_reject, name="quote_reject"),
    path("quotes/<int:pk>/revise/", views.quote_revise, name="quote_revise"),
    path("settings/discount-thresholds/", views.discount_thresholds, name="discount_thresholds"),
    path("settings/company-profile/", views.company_profile, name="company_profile"),
    path("settings/company-profile/preview/", views.company_profile_preview, name="company_profile_preview"),
    path("settings/company-profile/logo/", views.company_logo, name="company_logo"),
]
