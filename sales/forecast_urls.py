"""URLs of sales/forecast_views.py (included by sales/urls.py)."""

urlpatterns = []
