"""What the service desk adds to other modules' record pages (crm/panels.py): the customer's tickets on
the account and contact pages (open first), with the open and at-risk counts as key figures. One
query per page through `visible_to`: rows and totals together, by window counts."""

from django.db.models import Case, Count, OuterRef, Q, Subquery, Value, When, Window
from django.urls import reverse

from accounts.models import Account
from crm import panels
from crm.visibility import can_create, can_read
from service.field_services import rollup_from, rollup_rows, visit_rows, visits_from
from service.models import ACTIVE_STATUSES, OPEN_WORK_ORDER_STATUSES, Contract, SlaState, Ticket, WorkLog, WorkOrder

ROWS = 5


def account_tickets_probe(request, account):
    return Ticket.objects.visible_to(request.user).filter(account=account) if can_read(request.user, Ticket) else None


def contact_tickets_probe(request, contact):
    return Ticket.objects.visible_to(request.user).filter(contact=contact) if can_read(request.user, Ticket) else None


PROBES = {"account": account_tickets_probe, "contact": contact_tickets_probe}


def _tickets(request, record, page, field: str) -> list:
    key = f"service.tickets.{field}"
    if key not in page and not panels.has_rows(page, PROBES[field]):
        page[key] = []  # the page's probe found no ticket: no query
    if key not in page:
        active = Q(status__in=ACTIVE_STATUSES)
        rows = (Ticket.objects.visible_to(request.user).filter(**{field: record})
                .select_related("owner")
                .annotate(open_first=Case(When(active, then=Value(0)), default=Value(1)),
                          panel_total=Window(Count("id")),
                          open_count=Window(Count("id", filter=active)),
                          risk_count=Window(Count("id", filter=active & Q(sla_state__in=[SlaState.AT_RISK,
                                                                                          SlaState.BREACHED]))))
                .order_by("open_first", "-created_at", "-id")[:ROWS])
        page[key] = list(rows)
    return page[key]


def _panel(request, record, page, field: str):
    if not can_read(request.user, Ticket):
        return None
    rows = _tickets(request, record, page, field)
    first = rows[0] if rows else None
    return panels.Rendered("service/panels/tickets.html", {
        "tickets": rows, "total": getattr(first, "panel_total", 0), "open_count": getattr(first, "open_count", 0),
        "list_url": f"{reverse('service:ticket_list')}?{field}={record.pk}&view=all",
        "new_url": f"{reverse('service:ticket_create')}?{field}={record.pk}" if can_create(request.user, Ticket)
        else "", "panel_id": f"{field}-tickets",
    })


def _figures(request, record, page, field: str):
    if not can_read(request.user, Ticket):
        return None
    rows = _tickets(request, record, page, field)
    first = rows[0] if rows else None
    return panels.Rendered("service/panels/figures.html", {
        "open_count": getattr(first, "open_count", 0), "risk_count": getattr(first, "risk_count", 0),
        "open_url": f"{reverse('service:ticket_list')}?{field}={record.pk}",
    })


@panels.register("accounts.account", slot=panels.MAIN, order=40, probe=account_tickets_probe)
def account_tickets(request, account, page):
    return _panel(request, account, page, "account")


@panels.register("accounts.account", slot=panels.FIGURES, order=40, probe=account_tickets_probe)
def account_ticket_figures(request, account, page):
    return _figures(request, account, page, "account")


@panels.register("contacts.contact", slot=panels.MAIN, order=40, probe=contact_tickets_probe)
def contact_tickets(request, contact, page):
    return _panel(request, contact, page, "contact")


def account_contracts_probe(request, account):
    return Contract.objects.visible_to(request.user).filter(account=account) if can_read(request.user, Contract) \
        else None


@panels.register("accounts.account", slot=panels.SIDE, order=40, probe=account_contracts_probe)
def account_contracts(request, account, page):
    """The account's contracts and warranties, the latest ending first, with whether it is covered today."""
    if not can_read(request.user, Contract):
        return None
    rows = []
    if panels.has_rows(page, account_contracts_probe):
        rows = list(Contract.objects.visible_to(request.user).filter(account=account).select_related("product")
                    .annotate(panel_total=Window(Count("id"))).order_by("-ends_on", "-id")[:ROWS])
    return panels.Rendered("service/panels/contracts.html", {
        "contracts": rows, "total": rows[0].panel_total if rows else 0,
        "covered": any(contract.in_force for contract in rows),
        "list_url": f"{reverse('service:contract_list')}?account={account.pk}",
        "new_url": f"{reverse('service:contract_create')}?account={account.pk}"
        if can_create(request.user, Contract) else "",
    })


def _visible_work_logs(user):
    return WorkLog.objects.filter(ticket__in=Ticket.objects.visible_to(user).values("pk"))


def account_field_work_probe(request, account):
    if not can_read(request.user, WorkOrder):
        return None
    return [WorkOrder.objects.visible_to(request.user).filter(account=account),
            _visible_work_logs(request.user).filter(ticket__account=account)]


@panels.register("accounts.account", slot=panels.SIDE, order=45, probe=account_field_work_probe)
def account_field_work(request, account, page):
    """The account's visits (open first) and the work logged for it, with what is not billed yet: one
    query (subqueries through `visible_to`, the visits and the sums as JSON), none when the probe found
    neither a visit nor a work log."""
    if not can_read(request.user, WorkOrder) or not panels.has_rows(page, account_field_work_probe):
        return None
    visits = WorkOrder.objects.visible_to(request.user).filter(account=OuterRef("pk"))
    counted = visits.order_by().values("account").annotate(n=Count("id"))
    logs = _visible_work_logs(request.user).filter(ticket__account=OuterRef("pk"))
    row = (Account.objects.filter(pk=account.pk)
           .annotate(visit_rows=visit_rows(visits, ROWS),
                     visit_total=Subquery(counted.values("n")),
                     visit_open=Subquery(counted.filter(status__in=OPEN_WORK_ORDER_STATUSES).values("n")),
                     work=rollup_rows(logs))
           .values("visit_rows", "visit_total", "visit_open", "work").get())
    work = rollup_from(row["work"])
    if not row["visit_total"] and not work["minutes"] and not work["money"]:
        return None
    work_orders = visits_from(row["visit_rows"])
    return panels.Rendered("service/panels/field_work.html", {
        "work_orders": work_orders, "total": row["visit_total"] or 0, "open_count": row["visit_open"] or 0,
        "work": work, "list_url": f"{reverse('service:work_order_list')}?account={account.pk}",
    })
