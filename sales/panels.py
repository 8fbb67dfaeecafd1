"""What sales adds to other modules' record pages (crm/panels.py): on the account page its key
figures, open deals, latest quotes, orders and invoices, and receivables; on the contact page the
deals the person takes part in. Each panel is one query through `visible_to` (rows and the total
count together, by a window count) and links to the list filtered the same way."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Case, Count, OuterRef, Q, Subquery, Sum, Value, When, Window
from django.urls import reverse
from django.utils import timezone

from crm import panels
from crm.roles import Role
from crm.visibility import can_read
from sales.filters import deal_ids_of_contact
from sales.models import ContactRole, Invoice, Opportunity, OpportunityContactRole, Order, Quote, StageKind
from sales.receivables import account_receivables, outstanding_invoices

ROWS = 5
WON_WINDOW = timedelta(days=365)


def _sees_sales(user) -> bool:
    return can_read(user, Opportunity)


def _rows_and_total(queryset, limit: int = ROWS) -> tuple[list, int]:
    rows = list(queryset.annotate(panel_total=Window(Count("id")))[:limit])
    return rows, (rows[0].panel_total if rows else 0)


def account_deals_probe(request, account):
    return Opportunity.objects.visible_to(request.user).filter(account=account) if _sees_sales(request.user) else None


def _account_deals(request, account, page) -> tuple[list, datetime]:
    """The account's deals the user may see, open ones first (soonest to close), with the account's
    figures as window aggregates over all of them: one query serves the figures and the deals panel
    (none when the page's probe found no deal)."""
    if "sales.account_deals" not in page:
        since = timezone.now() - WON_WINDOW
        if not panels.has_rows(page, account_deals_probe):
            page["sales.account_deals"] = ([], since)
            return page["sales.account_deals"]
        is_open, won_recently = Q(stage__kind=StageKind.OPEN), Q(stage__kind=StageKind.WON, closed_at__gte=since)
        deals = (Opportunity.objects.visible_to(request.user).filter(account=account)
                 .select_related("stage", "owner")
                 .annotate(open_first=Case(When(is_open, then=0), default=1),
                           open_count=Window(Count("id", filter=is_open)),
                           open_total=Window(Sum("amount_base", filter=is_open)),
                           won_count=Window(Count("id", filter=won_recently)),
                           won_total=Window(Sum("amount_base", filter=won_recently)))
                 .order_by("open_first", "expected_close_date", "id")[:ROWS])
        page["sales.account_deals"] = (list(deals), since)
    return page["sales.account_deals"]


@panels.register("accounts.account", slot=panels.FIGURES, order=20, probe=account_deals_probe)
def account_figures(request, account, page):
    """Open pipeline and won in the last 12 months, in the default currency (amount_base)."""
    if not _sees_sales(request.user):
        return None
    deals, since = _account_deals(request, account, page)
    first = deals[0] if deals else None
    figures = {name: getattr(first, name, 0) or 0 for name in ("open_count", "open_total", "won_count", "won_total")}
    list_url = reverse("sales:opportunity_list")
    return panels.Rendered("sales/panels/account_figures.html", {
        **figures, "currency": settings.DEFAULT_CURRENCY,
        "open_url": f"{list_url}?account={account.pk}&status=open",
        "won_url": f"{list_url}?account={account.pk}&status=won&closed_from={since.date().isoformat()}",
    })


@panels.register("accounts.account", slot=panels.MAIN, order=20, probe=account_deals_probe)
def account_open_deals(request, account, page):
    if not _sees_sales(request.user):
        return None
    deals, _since = _account_deals(request, account, page)
    open_deals = [deal for deal in deals if deal.stage.kind == StageKind.OPEN]
    return panels.Rendered("sales/panels/deals.html", {
        "deals": open_deals, "total": deals[0].open_count if deals else 0, "panel_id": "account-deals",
        "list_url": f"{reverse('sales:opportunity_list')}?account={account.pk}&status=open",
        "new_url": f"{reverse('sales:opportunity_create')}?account={account.pk}",
        "today": timezone.localdate(),
    })


DOCUMENTS = ((Quote, "quote", "sales:quote_detail", "sales:quote_list"),
             (Order, "order", "sales:order_detail", "sales:order_list"),
             (Invoice, "invoice", "sales:invoice_detail", "sales:invoice_list"))


def account_documents_probe(request, account):
    if not _sees_sales(request.user):
        return None
    return [model.objects.visible_to(request.user).filter(account=account) for model, *_names in DOCUMENTS]


@panels.register("accounts.account", slot=panels.MAIN, order=30, probe=account_documents_probe)
def account_documents(request, account, page):
    """The latest quotes, orders and invoices with status and totals: one UNION query of three
    bounded parts, each with its own total count (none when the probe found no document)."""
    if not _sees_sales(request.user) or not panels.has_rows(page, account_documents_probe):
        return None
    parts = [
        model.objects.visible_to(request.user).filter(account=account)
        .annotate(kind=Value(kind), panel_total=Window(Count("id")))
        .values("kind", "id", "number", "status", "total", "currency", "created_at", "panel_total")
        .order_by("-created_at", "-id")[:ROWS]
        for model, kind, _detail, _list in DOCUMENTS
    ]
    rows = list(parts[0].union(*parts[1:], all=True))
    sections = []
    for model, kind, detail_name, list_name in DOCUMENTS:
        statuses = dict(model._meta.get_field("status").choices)
        docs = sorted((row for row in rows if row["kind"] == kind), key=lambda r: (r["created_at"], r["id"]),
                      reverse=True)
        for doc in docs:
            doc["url"] = reverse(detail_name, args=[doc["id"]])
            doc["status_label"] = statuses.get(doc["status"], doc["status"])
        sections.append({"key": f"{kind}s", "label": model._meta.verbose_name_plural, "rows": docs,
                         "total": docs[0]["panel_total"] if docs else 0,
                         "list_url": f"{reverse(list_name)}?account={account.pk}"})
    if not rows:
        return None
    return panels.Rendered("sales/panels/documents.html", {"sections": sections})


def account_receivables_probe(request, account):
    return outstanding_invoices(request.user).filter(account=account) if can_read(request.user, Invoice) else None


@panels.register("accounts.account", slot=panels.SIDE, order=30, probe=account_receivables_probe)
def account_receivables_card(request, account, page):
    if not can_read(request.user, Invoice):
        return None
    rows = account_receivables(request.user, account) if panels.has_rows(page, account_receivables_probe) else []
    return panels.Rendered("sales/receivables_card.html", {"show": True, "account": account, "rows": rows})


def contact_deals_probe(request, contact):
    if not _sees_sales(request.user):
        return None
    return Opportunity.objects.visible_to(request.user).filter(pk__in=deal_ids_of_contact(contact.pk))


@panels.register("contacts.contact", slot=panels.MAIN, order=20, probe=contact_deals_probe)
def contact_deals(request, contact, page):
    """Deals where the contact is the primary contact or has a role, with the role."""
    if not _sees_sales(request.user):
        return None
    deals, total = [], 0
    if panels.has_rows(page, contact_deals_probe):
        roles = OpportunityContactRole.objects.filter(contact=contact)
        deals, total = _rows_and_total(
            Opportunity.objects.visible_to(request.user)
            .filter(pk__in=deal_ids_of_contact(contact.pk))
            .annotate(role_code=Subquery(roles.filter(opportunity=OuterRef("pk")).values("role")[:1]))
            .select_related("stage", "owner").order_by("-expected_close_date", "-id"))
    for deal in deals:
        deal.contact_role = ContactRole(deal.role_code).label if deal.role_code else ""
    return panels.Rendered("sales/panels/deals.html", {
        "deals": deals, "total": total, "panel_id": "contact-deals", "show_roles": True,
        "list_url": f"{reverse('sales:opportunity_list')}?contact={contact.pk}",
        "new_url": (f"{reverse('sales:opportunity_create')}?account={contact.account_id}"
                    if contact.account_id else reverse("sales:opportunity_create")),
        "today": timezone.localdate(),
    })


@panels.register(panels.HOME, slot=panels.FIGURES, order=10)
def company_figures(request, user, page):
    """An executive owns no deals: their day opens on the company's figures (all they may see): the open
    pipeline, what was won this month, what closes by month end, and overdue invoices (three queries)."""
    if user.role != Role.EXECUTIVE or not _sees_sales(user):
        return None
    today = timezone.localdate()
    month_start = today.replace(day=1)
    month_end = (today.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    visible = Opportunity.objects.visible_to(user)
    figures = visible.open().aggregate(
        open_count=Count("id"), open_total=Sum("amount_base"),
        month_count=Count("id", filter=Q(expected_close_date__lte=month_end)),
        month_total=Sum("amount_base", filter=Q(expected_close_date__lte=month_end)))
    won = visible.won().filter(closed_at__date__gte=month_start).aggregate(won_count=Count("id"),
                                                                           won_total=Sum("amount_base"))
    overdue = Invoice.objects.visible_to(user).overdue(today).count()
    list_url = reverse("sales:opportunity_list")
    return panels.Rendered("sales/panels/company_figures.html", {
        **figures, **won, "overdue_invoices": overdue, "currency": settings.DEFAULT_CURRENCY,
        "open_url": f"{list_url}?status=open",
        "month_url": f"{list_url}?status=open&close_to={month_end.isoformat()}",
        "won_url": f"{list_url}?status=won&closed_from={month_start.isoformat()}",
        "invoices_url": f"{reverse('sales:invoice_list')}?overdue=true",
    })


@panels.register(panels.HOME, slot=panels.FIGURES, order=20)
def my_day_figures(request, user, page):
    """The seller's own open pipeline, what should close this month, and invoices overdue (one query each)."""
    if not _sees_sales(user) or user.role == Role.EXECUTIVE:
        return None
    today = timezone.localdate()
    month_end = (today.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    mine = Opportunity.objects.visible_to(user).filter(owner=user).open().aggregate(
        open_count=Count("id"), open_total=Sum("amount_base"),
        month_count=Count("id", filter=Q(expected_close_date__lte=month_end)),
        month_total=Sum("amount_base", filter=Q(expected_close_date__lte=month_end)),
        late_count=Count("id", filter=Q(expected_close_date__lt=today)))
    overdue = Invoice.objects.visible_to(user).filter(owner=user).overdue(today).count()
    list_url = reverse("sales:opportunity_list")
    return panels.Rendered("sales/panels/my_day_figures.html", {
        **mine, "overdue_invoices": overdue, "currency": settings.DEFAULT_CURRENCY,
        "open_url": f"{list_url}?scope=mine&status=open",
        "month_url": f"{list_url}?scope=mine&status=open&close_to={month_end.isoformat()}",
        "invoices_url": f"{reverse('sales:invoice_list')}?mine=true&overdue=true",
    })
