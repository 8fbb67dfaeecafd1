"""URLs of sales/billing_views.py (included by sales/urls.py)."""

from django.urls import path

from crm.lists import ListView
from sales import billing_views as views
from sales.lists import InvoiceList, OrderList

urlpatterns = [
    path("orders/", ListView.as_view(page=OrderList), name="order_list"),
    path("orders/new/", views.order_create, name="order_create"),
    path("orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("orders/<int:pk>/status/", views.order_status, name="order_status"),
    path("orders/<int:pk>/promise/", views.order_promise, name="order_promise"),
    path("orders/<int:pk>/shipments/", views.order_shipment_add, name="order_shipment_add"),
    path("orders/<int:pk>/invoice/", views.invoice_create_from_order, name="invoice_create_from_order"),
    path("quotes/<int:pk>/order/", views.order_create_from_quote, name="order_create_from_quote"),
    path("invoices/", ListView.as_view(page=InvoiceList), name="invoice_list"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/pdf/", views.invoice_pdf, name="invoice_pdf"),
    path("invoices/<int:pk>/payments/", views.payment_add, name="payment_add"),
    path("invoices/<int:pk>/cancel/", views.invoice_cancel, name="invoice_cancel"),
    path("receivables/", views.receivables_overview, name="receivables"),
    path("receivables/accounts/<int:pk>/", views.account_receivables, name="account_receivables"),
]
