"""The sales API: leads, opportunities and pipelines, products and price books, quotes, orders,
invoices and payments. Each file holds one area's serializers, filters and view sets; the routes
are registered with the core's API router (crm/api/routes.py) here, when the API is discovered."""

from crm.api.routes import register
from sales.api import billing, leads, opportunities, products, quotes

register("opportunities", opportunities.OpportunityViewSet, basename="opportunity")
register("pipelines", opportunities.PipelineViewSet, basename="pipeline")
register("orders", billing.OrderViewSet, basename="order")
register("invoices", billing.InvoiceViewSet, basename="invoice")
register("payments", billing.PaymentViewSet, basename="payment")
register("products", products.ProductViewSet, basename="product")
register("price-books", products.PriceBookViewSet, basename="price-book")
register("quotes", quotes.QuoteViewSet, basename="quote")
register("leads", leads.LeadViewSet, basename="lead")
