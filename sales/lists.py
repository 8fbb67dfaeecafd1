"""The sales lists, declared (crm/lists.py renders them): opportunities, quotes, orders,
invoices, products, leads and the lead queue."""

from decimal import Decimal

from django.contrib import messages
from django.db.models import Case, F, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, ngettext_lazy

from accounts.models import Account
from crm.lists import BulkAction, BulkRefused, Column, ExportColumn, Link, ListPage, both_ways, bulk_owner
from crm.visibility import managed_team_ids, with_visibility_flag
from sales import lead_services, services
from sales.billing_filters import InvoiceFilter, OrderListFilter
from sales.filters import OpportunityFilter
from sales.lead_filters import LeadFilter
from sales.models import Invoice, InvoiceStatus, Lead, LeadStatus, Opportunity, Order, Product, Quote
from sales.product_forms import ProductFilter
from sales.quote_filters import QuoteFilter

CELLS = "sales/list_cells.html"


def assign_opportunities(request, opportunities):
    owner = bulk_owner(request)
    if owner is None:
        raise BulkRefused(_("Choose whom to assign the opportunities to."))
    count = services.opportunities_assign(actor=request.user, opportunities=opportunities, owner=owner)
    messages.success(request, ngettext("%(count)s opportunity assigned to %(owner)s.",
                                       "%(count)s opportunities assigned to %(owner)s.", count)
                     % {"count": count, "owner": owner})


class AccountChip:
    """Lists filtered by a hidden account id (links from the account page) name the account in
    its chip: one query, only when that filter is in force, and only for an account the user sees."""

    def chip_text(self, name, text):
        if name == "account" and text.isdigit():
            account = Account.objects.visible_to(self.user).filter(pk=int(text)).only("id", "name").first()
            return account.name if account else text
        return text


class OpportunityList(AccountChip, ListPage):
    model = Opportunity
    filterset = OpportunityFilter
    title = _("Opportunities")
    url_name = "sales:opportunity_list"
    bulk_url_name = "sales:opportunity_bulk"
    table_id = "opportunity-table"
    columns = (
        Column(_("Name"), cell=Link(text="name"), sort="name", card="title"),
        Column(_("Account"), cell=Link(target="account", text="name", when="account_visible",
                                       otherwise=_("(not visible to you)")), card="sub"),
        Column(_("Stage"), template=f"{CELLS}#deal_stage", card="status"),
        Column(_("Amount"), template=f"{CELLS}#deal_amount", sort="amount", card="amount", total="amount",
               numeric=True, nowrap=True),
        Column(_("Prob."), template=f"{CELLS}#deal_probability", numeric=True),
        Column(_("Close date"), value="expected_close_date", format="date", sort="close", card="date", nowrap=True),
        Column(_("Owner"), value="owner", card="owner"),
    )
    sorts = both_ways(close=("expected_close_date",), name=("name",), amount=("amount",), updated=("updated_at",))
    default_sort = "close"
    primary_filters = ("q", "status", "scope")
    base_total = "amount_base"
    bulk_actions = (BulkAction("assign", _("Assign to…"), assign_opportunities, needs="owner"),)
    export_columns = (
        ExportColumn(_("Name"), "name"), ExportColumn(_("Account"), "account"), ExportColumn(_("Pipeline"), "pipeline"),
        ExportColumn(_("Stage"), "stage"), ExportColumn(_("Amount"), "amount"), ExportColumn(_("Currency"), "currency"),
        ExportColumn(_("Probability, %"), "probability"), ExportColumn(_("Expected close date"), "expected_close_date"),
        ExportColumn(_("Forecast category"), "get_forecast_category_display"), ExportColumn(_("Owner"), "owner"),
        ExportColumn(_("Next step"), "next_step"),
    )
    export_filename = "opportunities"
    export_ordering = ("expected_close_date", "id")
    export_target = "sales.opportunity"
    saved_views = "sales.opportunity"
    noun_plural = _("opportunities")
    nothing_ticked = _("Tick at least one opportunity first.")
    skipped = ngettext_lazy("%(count)s ticked opportunity is read-only for you and was left as it was.",
                            "%(count)s ticked opportunities are read-only for you and were left as they were.",
                            "count")
    empty_icon = "graph-up-arrow"
    empty_text = _("Opportunities are the deals you are working on: what, with whom, for how much and when it "
                   "should close.")
    empty_filtered_text = _("No opportunity matches these filters.")
    create_url_name = "sales:opportunity_create"
    create_label = _("New opportunity")
    actions_template = f"{CELLS}#deal_actions"

    def queryset(self):
        return Opportunity.objects.visible_to(self.user).select_related("owner", "account", "stage", "pipeline")

    def decorate(self, rows):
        # Which accounts on this page the user may open: one query on 50 ids (not a join in the count).
        shown = set(Account.objects.visible_to(self.user).filter(pk__in={row.account_id for row in rows})
                    .values_list("id", flat=True))
        for row in rows:
            row.account_visible = row.account_id in shown

    def export_rows(self, ids):
        return with_visibility_flag(super().export_rows(ids).select_related("owner", "account", "pipeline", "stage"),
                                    self.user, "account")

    def export_value(self, row, column):
        if column.value == "account" and not row.account_visible:
            return ""  # never the name of an account the user may not open
        return super().export_value(row, column)


class QuoteList(AccountChip, ListPage):
    model = Quote
    filterset = QuoteFilter
    title = _("Quotes")
    url_name = "sales:quote_list"
    table_id = "quote-table"
    columns = (
        Column(_("Number"), template=f"{CELLS}#quote_number", sort="number", card="title", nowrap=True),
        Column(_("Title"), value="title"),
        Column(_("Customer"), template=f"{CELLS}#quote_account", card="sub"),
        Column(_("Status"), template=f"{CELLS}#quote_status", card="status"),
        Column(_("Total"), template=f"{CELLS}#total", sort="-total", card="amount", total="total", numeric=True,
               nowrap=True),
        Column(_("Valid until"), value="valid_until", format="date", sort="valid_until", card="date", nowrap=True),
        Column(_("Owner"), value="owner", card="owner"),
    )
    sorts = {
        "-created": ("-created_at", "-id"),
        "created": ("created_at", "id"),
        "number": ("number", "version", "id"),
        "-number": ("-number", "-version", "-id"),
        "valid_until": ("valid_until", "id"),
        "-total": ("-total", "-id"),
    }
    default_sort = "-created"
    primary_filters = ("q", "status", "owner")
    export_target = "sales.quote"
    empty_icon = "file-earmark-text"
    empty_text = _("Quotes are the priced proposals you send customers: build one from a deal's products, get big "
                   "discounts approved, send the PDF.")
    empty_filtered_text = _("No quote matches these filters.")
    create_url_name = "sales:quote_create"
    create_label = _("New quote")
    actions_template = f"{CELLS}#quote_actions"

    def queryset(self):
        return with_visibility_flag(Quote.objects.visible_to(self.user).select_related("account", "owner"),
                                    self.user, "account")


class OrderList(AccountChip, ListPage):
    model = Order
    filterset = OrderListFilter
    title = _("Orders")
    url_name = "sales:order_list"
    table_id = "order-table"
    columns = (
        Column(_("Number"), template=f"{CELLS}#number", card="title", nowrap=True),
        Column(_("Account"), template=f"{CELLS}#deal_account", card="sub"),
        Column(_("Status"), template=f"{CELLS}#status", card="status"),
        Column(_("Total"), template=f"{CELLS}#total", card="amount", total="total", numeric=True, nowrap=True),
        Column(_("Order date"), value="ordered_on", format="date", card="date", nowrap=True),
        Column(_("Owner"), value="owner", card="owner"),
    )
    sorts = {"-created": ("-created_at", "-id")}
    default_sort = "-created"
    primary_filters = ("q", "status")
    export_target = "sales.order"
    empty_icon = "box-seam"
    empty_text = _("Orders are what customers bought, on their way to them: press “Create order” on an accepted "
                   "quote, or enter a phone or walk-in order directly.")
    empty_filtered_text = _("No order matches these filters.")
    actions_template = f"{CELLS}#order_actions"
    empty_action_template = f"{CELLS}#order_empty_action"
    create_url_name = "sales:order_create"
    create_label = _("New order")
    create_id = "new-order"

    def queryset(self):
        # The account is named only where the reader may open it (a rep's order on a colleague's account).
        return with_visibility_flag(Order.objects.visible_to(self.user).select_related("account", "owner"),
                                    self.user, "account")


class InvoiceList(OrderList):
    model = Invoice
    filterset = InvoiceFilter
    title = _("Invoices")
    url_name = "sales:invoice_list"
    table_id = "invoice-table"
    columns = (
        Column(_("Number"), template=f"{CELLS}#number", card="title", nowrap=True),
        Column(_("Account"), template=f"{CELLS}#deal_account", card="sub"),
        Column(_("Status"), template=f"{CELLS}#invoice_status", card="status"),
        Column(_("Total"), template=f"{CELLS}#total", total="total", numeric=True, nowrap=True),
        Column(_("Balance"), template=f"{CELLS}#invoice_balance", card="amount", total="open_balance", numeric=True,
               nowrap=True),
        Column(_("Due date"), value="due_date", format="date", card="date", nowrap=True),
        Column(_("Owner"), value="owner", card="owner"),
    )
    sorts = {"-issued": ("-issue_date", "-id")}
    default_sort = "-issued"
    primary_filters = ("q", "status", "overdue")
    export_target = "sales.invoice"
    empty_icon = "receipt"
    empty_text = _("Invoices are issued from orders: open an order and press “Create invoice”.")
    empty_filtered_text = _("No invoice matches these filters.")
    actions_template = f"{CELLS}#invoice_actions"
    empty_action_template = f"{CELLS}#invoice_empty_action"
    create_url_name = ""  # invoices are issued from orders

    def queryset(self):
        return with_visibility_flag(Invoice.objects.visible_to(self.user).select_related("account", "owner"),
                                    self.user, "account")

    def context(self):
        return {"today": timezone.localdate()}

    def sum_expressions(self):
        # The same rule as decorate(), for the sum over every matching invoice.
        return {"total": F("total"),
                "open_balance": Case(When(status=InvoiceStatus.CANCELLED, then=Value(Decimal(0))),
                                     default=F("total") - F("amount_paid"))}

    def decorate(self, rows):
        # A cancelled invoice owes nothing: its balance is shown as "—" and left out of the sum.
        for row in rows:
            row.open_balance = 0 if row.status == InvoiceStatus.CANCELLED else row.balance


class ProductList(ListPage):
    model = Product
    filterset = ProductFilter
    title = _("Products")
    url_name = "sales:product_list"
    table_id = "product-table"
    columns = (
        Column(_("SKU"), template=f"{CELLS}#product_sku", sort="sku", card="sub", nowrap=True),
        Column(_("Name"), template=f"{CELLS}#product_name", sort="name", card="title"),
        Column(_("Family"), value="family", sort="family", card="status"),
        Column(_("Unit"), value="unit"),
        Column(_("Default price"), template=f"{CELLS}#product_price", sort="price", card="amount", numeric=True,
               nowrap=True),
        Column(_("Tax, %"), template=f"{CELLS}#product_tax", numeric=True),
    )
    sorts = {**both_ways(name=("name",), sku=("sku",), price=("default_price",)),
             "family": ("family", "name", "id"), "-family": ("-family", "name", "id")}
    default_sort = "name"
    primary_filters = ("q", "family", "status")
    export_target = "sales.product"
    empty_icon = "box-seam"
    empty_text = _("The product catalogue is what your reps sell and show customers: descriptions, datasheets and "
                   "prices in each price book.")
    empty_filtered_text = _("No product matches these filters.")
    create_url_name = "sales:product_create"
    create_label = _("New product")
    create_id = "new-product"
    actions_template = f"{CELLS}#product_actions"


# --- Leads -----------------------------------------------------------------------------


def sees_queues(user) -> bool:
    """Queues of unassigned leads are worked by a team's managers and by admins."""
    return user.is_admin or bool(managed_team_ids(user))


def assign_leads(request, leads):
    owner = bulk_owner(request)
    if owner is None:
        raise BulkRefused(_("Choose whom to assign the leads to."))
    count = lead_services.leads_assign(actor=request.user, leads=leads, owner=owner)
    messages.success(request, ngettext("%(count)s lead assigned to %(owner)s.",
                                       "%(count)s leads assigned to %(owner)s.", count)
                     % {"count": count, "owner": owner})


def distribute_leads(request, leads):
    result = lead_services.leads_distribute(leads=leads.filter(owner__isnull=True), actor=request.user)
    messages.success(request, ngettext("%(count)s lead distributed by the rules.",
                                       "%(count)s leads distributed by the rules.", result.count)
                     % {"count": result.count})
    if result.unmatched:
        messages.warning(request, ngettext("%(count)s lead matched no rule and stays in the queue.",
                                           "%(count)s leads matched no rule and stay in the queue.",
                                           len(result.unmatched)) % {"count": len(result.unmatched)})


class LeadList(ListPage):
    model = Lead
    filterset = LeadFilter
    title = _("Leads")
    url_name = "sales:lead_list"
    bulk_url_name = "sales:lead_bulk"
    table_id = "lead-table"
    columns = (
        Column(_("Name"), template="sales/lead_list_cells.html#lead_name", sort="name", card="title"),
        Column(_("Company"), value="company", sort="company", card="sub"),
        Column(_("Status"), template="sales/lead_list_cells.html#lead_status", sort="status", card="status"),
        Column(_("Source"), template="sales/lead_list_cells.html#lead_source"),
        Column(_("Rating"), value="get_rating_display"),
        Column(_("Owner"), template="sales/lead_list_cells.html#lead_owner", card="owner"),
        Column(_("Created"), value="created_at", format="date", sort="created", card="date", nowrap=True),
    )
    sorts = {**both_ways(created=("created_at",), name=("last_name", "first_name"), company=("company",),
                         updated=("updated_at",)),
             "status": ("status", "-created_at", "-id"), "-status": ("-status", "-created_at", "-id")}
    default_sort = "-created"
    primary_filters = ("q", "status", "owner")
    bulk_actions = (
        BulkAction("assign", _("Assign to…"), assign_leads, needs="owner"),
        BulkAction("distribute", _("Distribute by the rules"), distribute_leads, allowed=sees_queues),
    )
    export_columns = (
        ExportColumn(_("First name"), "first_name"), ExportColumn(_("Last name"), "last_name"),
        ExportColumn(_("Job title"), "title"), ExportColumn(_("Company"), "company"),
        ExportColumn(_("E-mail"), "email"), ExportColumn(_("Phone"), "phone"),
        ExportColumn(_("Source"), "get_source_display"),
        ExportColumn(_("Status"), "get_status_display"), ExportColumn(_("Rating"), "get_rating_display"),
        ExportColumn(_("Owner"), "owner"), ExportColumn(_("Created"), "created_at"),
    )
    export_filename = "leads"
    export_ordering = ("-created_at", "-id")
    export_target = "sales.lead"
    noun_plural = _("leads")
    nothing_ticked = _("Tick at least one lead first.")
    skipped = ngettext_lazy("%(count)s ticked lead is read-only for you and was left as it was.",
                            "%(count)s ticked leads are read-only for you and were left as they were.", "count")
    empty_icon = "person-plus"
    empty_text = _("Leads are people who may buy but are not qualified yet. Work them, qualify them and convert "
                   "them into customers and deals.")
    empty_filtered_text = _("No lead matches these filters.")
    create_url_name = "sales:lead_create"
    create_label = _("New lead")
    actions_template = "sales/lead_list_cells.html#lead_actions"

    def queryset(self):
        return Lead.objects.visible_to(self.user).select_related("owner")

    def context(self):
        return {"sees_queues": sees_queues(self.user), "queue": False}

    def export_rows(self, ids):
        return super().export_rows(ids).select_related("owner")

    def back_url(self):
        return reverse("sales:lead_queue" if self.request.POST.get("from") == "queue" else self.url_name)


class LeadQueue(LeadList):
    """Unassigned leads waiting in a queue: a team's managers see their team's, admins all."""

    title = _("Lead queue")
    url_name = "sales:lead_queue"
    bulk_from = "queue"
    export_target = ""
    intro_template = "sales/lead_list_cells.html#queue_intro"

    def queryset(self):
        return super().queryset().filter(owner__isnull=True).exclude(status=LeadStatus.CONVERTED)

    def context(self):
        return {"sees_queues": sees_queues(self.user), "queue": True}

    @property
    def empty_text(self):
        if not sees_queues(self.user):
            return _("Queues of unassigned leads are worked by sales managers and admins; the leads given to you "
                     "are in your list.")
        return _("The queue is empty: every lead has an owner. New leads without one (web forms, imports) land here "
                 "until the rules or a manager assign them.")
