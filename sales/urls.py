"""Sales URLs. Each area keeps its views and URLs in its own modules: views.py (pipelines,
opportunities, the board), product_views, quote_views, billing_views (orders, invoices,
payments, receivables) and forecast_views (targets, forecast)."""

from django.urls import include, path

from sales import billing_urls, forecast_urls, product_urls, quote_urls, views

app_name = "sales"

urlpatterns = [
    path("opportunities/", views.opportunity_list, name="opportunity_list"),
    path("", include(product_urls.urlpatterns)),
    path("", include(quote_urls.urlpatterns)),
    path("", include(billing_urls.urlpatterns)),
    path("", include(forecast_urls.urlpatterns)),
]
