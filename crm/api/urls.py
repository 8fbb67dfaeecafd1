"""/api/: accounts, contacts, activities; the OpenAPI schema and the interactive docs."""

from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from crm.api import billing, leads, opportunities, products, quotes, views

app_name = "api"

router = SimpleRouter()
router.register("accounts", views.AccountViewSet, basename="account")
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("activities", views.ActivityViewSet, basename="activity")
router.register("opportunities", opportunities.OpportunityViewSet, basename="opportunity")
router.register("pipelines", opportunities.PipelineViewSet, basename="pipeline")
router.register("orders", billing.OrderViewSet, basename="order")
router.register("invoices", billing.InvoiceViewSet, basename="invoice")
router.register("payments", billing.PaymentViewSet, basename="payment")
router.register("products", products.ProductViewSet, basename="product")
router.register("price-books", products.PriceBookViewSet, basename="price-book")
router.register("quotes", quotes.QuoteViewSet, basename="quote")
router.register("leads", leads.LeadViewSet, basename="lead")

urlpatterns = [
    path("schema/", views.SchemaView.as_view(), name="schema"),
    path("docs/", views.DocsView.as_view(url_name="api:schema"), name="docs"),
    *router.urls,
    re_path(r"^", views.not_found),
]
