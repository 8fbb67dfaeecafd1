"""URLs of sales/billing_views.py (included by sales/urls.py)."""

urlpatterns = []
