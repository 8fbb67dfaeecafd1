"""The sales lists' exports (found by the exports app's autodiscovery): orders, invoices, products,
leads, quotes and opportunities, each with its list page's filters and the visibility policy."""

from django.utils.translation import gettext_lazy as _

from crm.visibility import with_visibility_flag
from exports.registry import Exporter, register
from sales.billing_filters import InvoiceFilter, OrderListFilter
from sales.filters import OpportunityFilter
from sales.lead_filters import LeadFilter
from sales.models import Invoice, Lead, Opportunity, Order, Product, Quote
from sales.product_forms import ProductFilter
from sales.quote_filters import QuoteFilter

# --- Orders and invoices (sales/billing_*) -----------------------------------------------


def _orders(user):
    return with_visibility_flag(Order.objects.visible_to(user).select_related("account", "owner"), user,
                                "account").order_by("-created_at", "-id")


def _order_filter():
    return OrderListFilter


def _invoices(user):
    return with_visibility_flag(Invoice.objects.visible_to(user).select_related("account", "owner", "order"), user,
                                "account").order_by("-issue_date", "-id")


def _invoice_filter():
    return InvoiceFilter


register(Exporter(
    target="sales.order", label=_("Orders"), list_url="sales:order_list",
    queryset=_orders, filterset=_order_filter,
    columns=[
        (_("ID"), lambda o: o.pk), (_("Number"), lambda o: o.number),
        (_("Account"), lambda o: o.account.name if o.account_visible else ""),
        (_("Status"), lambda o: o.get_status_display()), (_("Order date"), lambda o: o.ordered_on),
        (_("Promised delivery date"), lambda o: o.promised_on),
        (_("Currency"), lambda o: o.currency), (_("Subtotal"), lambda o: o.subtotal),
        (_("Discount"), lambda o: o.discount_total), (_("Tax"), lambda o: o.tax_total), (_("Total"), lambda o: o.total),
        (_("Owner"), lambda o: o.owner), (_("Created"), lambda o: o.created_at),
    ],
))
register(Exporter(
    target="sales.invoice", label=_("Invoices"), list_url="sales:invoice_list",
    queryset=_invoices, filterset=_invoice_filter,
    columns=[
        (_("ID"), lambda i: i.pk), (_("Number"), lambda i: i.number),
        (_("Account"), lambda i: i.account.name if i.account_visible else ""),
        (_("Order"), lambda i: i.order.number if i.order_id else ""), (_("Status"), lambda i: i.get_status_display()),
        (_("Issue date"), lambda i: i.issue_date), (_("Due date"), lambda i: i.due_date),
        (_("Currency"), lambda i: i.currency), (_("Total"), lambda i: i.total), (_("Paid"), lambda i: i.amount_paid),
        (_("Balance"), lambda i: i.balance), (_("Owner"), lambda i: i.owner), (_("Created"), lambda i: i.created_at),
    ],
))


# --- Products (sales/product_*) ------------------------------------------------------------


def _products(user):
    return Product.objects.visible_to(user).order_by("name", "id")


def _product_filter():
    return ProductFilter


register(Exporter(
    target="sales.product", label=_("Products"), list_url="sales:product_list",
    queryset=_products, filterset=_product_filter,
    columns=[
        (_("ID"), lambda p: p.pk), (_("SKU"), lambda p: p.sku), (_("Name"), lambda p: p.name),
        (_("Family"), lambda p: p.family), (_("Unit"), lambda p: p.unit),
        (_("Default price"), lambda p: p.default_price), (_("Currency"), lambda p: p.currency),
        (_("Tax rate, %"), lambda p: p.tax_rate), (_("Active"), lambda p: p.active),
        (_("Description"), lambda p: p.description), (_("Changed"), lambda p: p.updated_at),
    ],
))


# --- Leads (sales/lead_*, moving to sales) -------------------------------------------


def _leads(user):
    return Lead.objects.visible_to(user).select_related("owner", "territory").order_by("-created_at", "-id")


def _lead_filter():
    return LeadFilter


register(Exporter(
    target="sales.lead", label=_("Leads"), list_url="sales:lead_list",
    queryset=_leads, filterset=_lead_filter,
    columns=[
        (_("ID"), lambda lead: lead.pk), (_("First name"), lambda lead: lead.first_name),
        (_("Last name"), lambda lead: lead.last_name), (_("Job title"), lambda lead: lead.title),
        (_("Company"), lambda lead: lead.company), (_("E-mail"), lambda lead: lead.email),
        (_("Phone"), lambda lead: lead.phone), (_("Website"), lambda lead: lead.website),
        (_("Country"), lambda lead: lead.country), (_("City"), lambda lead: lead.city),
        (_("Territory"), lambda lead: lead.territory), (_("Source"), lambda lead: lead.get_source_display()),
        (_("Status"), lambda lead: lead.get_status_display()),
        (_("Disqualified because"), lambda lead: lead.get_disqualify_reason_display()),
        (_("Rating"), lambda lead: lead.get_rating_display()), (_("Owner"), lambda lead: lead.owner or ""),
        (_("Created"), lambda lead: lead.created_at), (_("Converted"), lambda lead: lead.converted_at),
    ],
))


# --- Quotes (sales/quote_*) ------------------------------------------------------------------


def _quotes(user):
    return Quote.objects.visible_to(user).select_related("owner", "account", "contact").order_by("-created_at", "-id")


def _quote_filter():
    return QuoteFilter


register(Exporter(
    target="sales.quote", label=_("Quotes"), list_url="sales:quote_list",
    queryset=_quotes, filterset=_quote_filter,
    columns=[
        (_("ID"), lambda q: q.pk), (_("Number"), lambda q: q.display_number), (_("Title"), lambda q: q.title),
        (_("Customer"), lambda q: q.account.name),  # printed on the quote itself
        (_("Addressed to"), lambda q: q.contact or ""), (_("Status"), lambda q: q.get_status_display()),
        (_("Discount approval"), lambda q: q.get_approval_status_display()), (_("Currency"), lambda q: q.currency),
        (_("Subtotal"), lambda q: q.subtotal), (_("Discount"), lambda q: q.discount_total),
        (_("Tax"), lambda q: q.tax_total), (_("Total"), lambda q: q.total), (_("Date"), lambda q: q.issue_date),
        (_("Valid until"), lambda q: q.valid_until), (_("Sent"), lambda q: q.sent_at),
        (_("Owner"), lambda q: q.owner), (_("Created"), lambda q: q.created_at),
    ],
))


# --- Opportunities (sales/views.py) ---------------------------------------------------------


def _opportunities(user):
    return with_visibility_flag(
        Opportunity.objects.visible_to(user).select_related("owner", "account", "pipeline", "stage"), user,
        "account").order_by("expected_close_date", "id")


def _opportunity_filter():
    return OpportunityFilter


register(Exporter(
    target="sales.opportunity", label=_("Opportunities"), list_url="sales:opportunity_list",
    queryset=_opportunities, filterset=_opportunity_filter,
    columns=[
        (_("ID"), lambda o: o.pk), (_("Name"), lambda o: o.name),
        (_("Account"), lambda o: o.account.name if o.account_visible else ""),
        (_("Pipeline"), lambda o: str(o.pipeline)), (_("Stage"), lambda o: str(o.stage)),
        (_("Amount"), lambda o: o.amount), (_("Currency"), lambda o: o.currency),
        (_("Probability, %"), lambda o: o.probability), (_("Expected close date"), lambda o: o.expected_close_date),
        (_("Forecast category"), lambda o: o.get_forecast_category_display()),
        (_("Lead source"), lambda o: o.get_lead_source_display()),
        (_("Next step"), lambda o: o.next_step), (_("Lost reason"), lambda o: o.get_lost_reason_display()),
        (_("Owner"), lambda o: o.owner), (_("Closed"), lambda o: o.closed_at), (_("Created"), lambda o: o.created_at),
    ],
))
