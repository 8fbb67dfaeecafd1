"""URLs of sales/product_views.py (included by sales/urls.py)."""

urlpatterns = []
