"""URLs of sales/product_views.py (included by sales/urls.py)."""

from django.urls import path

from crm.lists import ListView
from sales import product_views as views
from sales.lists import ProductList

urlpatterns = [
    path("products/", ListView.as_view(page=ProductList), name="product_list"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/autocomplete/", views.product_autocomplete, name="product_autocomplete"),
    path("products/<int:pk>/", views.product_detail, name="product_detail"),
    path("products/<int:pk>/edit/", views.product_edit, name="product_edit"),
    path("products/<int:pk>/active/", views.product_set_active, name="product_set_active"),
    path("products/<int:pk>/delete/", views.product_delete, name="product_delete"),
    path("products/<int:pk>/documents/", views.product_document_upload, name="product_document_upload"),
    path("products/<int:pk>/documents/<int:document_pk>/", views.product_document_download,
         name="product_document_download"),
    path("products/<int:pk>/documents/<int:document_pk>/delete/", views.product_document_delete,
         name="product_document_delete"),
    path("price-books/", views.price_book_list, name="price_book_list"),
    path("price-books/new/", views.price_book_create, name="price_book_create"),
    path("price-books/<int:pk>/", views.price_book_detail, name="price_book_detail"),
    path("price-books/<int:pk>/edit/", views.price_book_edit, name="price_book_edit"),
    path("price-books/<int:pk>/delete/", views.price_book_delete, name="price_book_delete"),
    path("price-books/<int:pk>/entries/", views.price_book_entry_add, name="price_book_entry_add"),
    path("price-books/<int:pk>/entries/<int:entry_pk>/", views.price_book_entry_edit, name="price_book_entry_edit"),
    path("price-books/<int:pk>/entries/<int:entry_pk>/remove/", views.price_book_entry_remove,
         name="price_book_entry_remove"),
    path("exchange-rates/", views.currency_rate_list, name="currency_rate_list"),
    path("exchange-rates/<int:pk>/delete/", views.currency_rate_delete, name="currency_rate_delete"),
    path("opportunities/<int:pk>/lines/", views.opportunity_lines, name="opportunity_lines"),
    path("opportunities/<int:pk>/lines/add/", views.opportunity_line_add, name="opportunity_line_add"),
    path("opportunities/<int:pk>/lines/use-total/", views.opportunity_lines_use_total,
         name="opportunity_lines_use_total"),
    path("opportunities/<int:pk>/lines/<int:line_pk>/edit/", views.opportunity_line_edit,
         name="opportunity_line_edit"),
    path("opportunities/<int:pk>/lines/<int:line_pk>/delete/", views.opportunity_line_delete,
         name="opportunity_line_delete"),
]
