"""URLs of sales/quote_views.py (included by sales/urls.py)."""

urlpatterns = []
