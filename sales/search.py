"""Leads, deals, quotes, orders, invoices and products in the global search (crm/search.py).

Every provider reads through `visible_to` (products: the catalogue policy) and runs at most
one query, served by an index: the trigram indexes on UPPER(name) for names (`icontains`
compiles to UPPER(col) LIKE UPPER(%s)), the varchar_pattern_ops indexes for document number
prefixes, the e-mail and E.164 indexes of leads, the partial unique index on a live SKU.
"""

from django.db.models import Q
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from crm import search
from crm.search import CallerHit, Hit, Kind, Query
from crm.visibility import with_visibility_flag
from sales.models import Invoice, Lead, Opportunity, Order, Product, Quote
from sales.templatetags.billing_tags import money


def _account(record) -> str:
    """The linked account's name, only when the user may open it."""
    return str(record.account) if record.account_visible else ""


@search.register
class LeadSearch(search.SearchProvider):
    """By e-mail (lead_email_idx), phone (lead_phone_idx), last name or company (trigram indexes)."""

    key = "leads"
    label = _("Leads")
    icon = "person-plus"
    order = 30
    matches_phone = True
    caller_order = 30

    def search(self, user, query: Query, limit: int) -> list[Hit]:
        leads = Lead.objects.visible_to(user)
        if query.kind == Kind.EMAIL:
            found = leads.filter(email=query.email)[:limit]  # stored lower-cased
        elif query.kind == Kind.PHONE:
            if not query.e164s and not query.tail:
                return []
            condition = Q(phone_e164__in=query.e164s)
            if query.tail:  # the end of a number (lead_phone_trgm)
                condition |= Q(phone_e164__endswith=query.tail) & ~Q(phone_e164="")
            found = leads.filter(condition)[:limit]
        else:
            found = search.ranked(leads, ("last_name", "company"), query.text,
                                  Q(last_name__icontains=query.text) | Q(company__icontains=query.text), limit,
                                  ("last_name", "id"))
        return [Hit(title=str(lead), subtitle=search.joined(lead.email or lead.phone, lead.get_status_display()),
                    url=lead.get_absolute_url(), record=lead) for lead in found]

    def caller_hits(self, user, e164: str, limit: int) -> list[CallerHit]:
        return [CallerHit(text=str(lead), links={"lead": (lead.pk, str(lead))})
                for lead in Lead.objects.visible_to(user).filter(
                    phone_e164__in=search.phone_numbers(e164))[:limit]]


@search.register
class OpportunitySearch(search.SearchProvider):
    """By name (opp_name_up_trgm)."""

    key = "opportunities"
    label = _("Opportunities")
    icon = "briefcase"
    order = 40

    def search(self, user, query: Query, limit: int) -> list[Hit]:
        if query.kind not in (Kind.WORDS, Kind.NUMBER):
            return []
        deals = with_visibility_flag(Opportunity.objects.visible_to(user).select_related("account", "stage"),
                                     user, "account")
        found = search.ranked(deals, "name", query.text, Q(name__icontains=query.text), limit, ("name", "id"))
        return [Hit(title=deal.name,
                    subtitle=search.joined(_account(deal), deal.stage, money(deal.amount, deal.currency),
                                           date_format(deal.expected_close_date, "SHORT_DATE_FORMAT")),
                    url=deal.get_absolute_url(), record=deal) for deal in found]


class DocumentSearch(search.SearchProvider):
    """Documents by their number, exact or its beginning ("inv-2026-00"), newest first."""

    model = None
    date_field = ""

    def matching(self, queryset, query: Query):
        return queryset.filter(number__startswith=query.number)

    def search(self, user, query: Query, limit: int) -> list[Hit]:
        if query.kind != Kind.NUMBER:
            return []
        documents = with_visibility_flag(self.model.objects.visible_to(user).select_related("account"),
                                         user, "account")
        found = self.matching(documents, query).order_by("-number", "-id")[:limit]
        return [Hit(title=str(document),
                    subtitle=search.joined(_account(document), document.get_status_display(),
                                           money(document.total, document.currency),
                                           date_format(getattr(document, self.date_field), "SHORT_DATE_FORMAT")),
                    url=document.get_absolute_url(), record=document) for document in found]


@search.register
class QuoteSearch(DocumentSearch):
    key = "quotes"
    label = _("Quotes")
    icon = "file-earmark-text"
    order = 50
    model = Quote
    date_field = "issue_date"

    def matching(self, queryset, query: Query):
        # "Q-2026-0007/2" names version 2 (quote_number_prefix_idx serves the number).
        number, _slash, version = query.number.partition("/")
        if version.isdigit():
            return queryset.filter(number=number, version=int(version))
        return queryset.filter(number__startswith=number)


@search.register
class OrderSearch(DocumentSearch):
    key = "orders"
    label = _("Orders")
    icon = "cart-check"
    order = 60
    model = Order
    date_field = "ordered_on"


@search.register
class InvoiceSearch(DocumentSearch):
    key = "invoices"
    label = _("Invoices")
    icon = "receipt"
    order = 70
    model = Invoice
    date_field = "issue_date"


@search.register
class ProductSearch(search.SearchProvider):
    """By SKU (exact, the live-SKU unique index) or name (product_name_up_trgm)."""

    key = "products"
    label = _("Products")
    icon = "box-seam"
    order = 80

    def search(self, user, query: Query, limit: int) -> list[Hit]:
        if query.kind == Kind.EMAIL:
            return []
        condition = Q(sku__in={query.text, query.text.upper()})
        if query.kind == Kind.WORDS:
            condition |= Q(name__icontains=query.text)
        found = search.ranked(Product.objects.visible_to(user), "name", query.text, condition, limit,
                              ("name", "id"))
        return [Hit(title=product.name,
                    subtitle=search.joined(product.sku, product.family, money(product.default_price, product.currency),
                                           "" if product.active else _("inactive")),
                    url=product.get_absolute_url(), record=product) for product in found]
