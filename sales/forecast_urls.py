"""URLs of sales/forecast_views.py (included by sales/urls.py)."""

from django.urls import path

from sales import forecast_views

urlpatterns = [
    path("forecast/", forecast_views.forecast, name="forecast"),
    path("forecast/deals/", forecast_views.forecast_deals, name="forecast_deals"),
    path("forecast/deals/<int:pk>/category/", forecast_views.forecast_deal_category, name="forecast_deal_category"),
    path("targets/", forecast_views.targets, name="targets"),
    path("targets/save/", forecast_views.target_save, name="target_save"),
]
