"""Field service: a ticket becomes a work order, dispatched to a specialist by skill and territory; the
specialist starts and finishes the visit and logs time, materials and expenses on it; the unbilled work
is billed once through the sales order and invoice flow.

Every status change locks the work order's row first. Billing claims each log with a compare-and-set
UPDATE (`billed_order IS NULL`) after the order is written: a second biller that read the same logs
claims none of them, and its order rolls back with its transaction (`test_billing_twice_at_once_bills_once`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import JSONObject
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.models import Notification, NotificationKind, Territory, User
from crm.roles import Role
from sales import billing_services
from sales.models import Invoice, Order, OrderLine, Product
from sales.services import next_number
from service import contract_services, sla
from service.models import (
    OPEN_WORK_ORDER_STATUSES,
    Skill,
    SpecialistHours,
    Ticket,
    WorkKind,
    WorkLog,
    WorkOrder,
    WorkOrderStatus,
)
from webhooks.services import emit

# A specialist's day counts these visits as load.
BOOKED = (WorkOrderStatus.SCHEDULED, WorkOrderStatus.IN_PROGRESS, WorkOrderStatus.DONE)
CANDIDATES_SHOWN = 30
BILLING_ROLES = (Role.ADMIN, Role.SUPPORT_LEAD)


def _locked(work_order: WorkOrder) -> WorkOrder:
    locked: WorkOrder = (WorkOrder.objects.select_for_update(of=("self",))
                         .select_related("ticket", "account", "owner", "skill").get(pk=work_order.pk))
    return locked


@transaction.atomic
def work_order_create(*, ticket: Ticket, actor: User, skill: Skill | None = None, notes: str = "") -> WorkOrder:
    """The ticket's visit: the customer, contact and address come from the ticket and its account."""
    account = ticket.account
    address = (account.shipping_address or account.address) if account is not None else ""
    work_order = WorkOrder(ticket=ticket, account=account, contact=ticket.contact, skill=skill,
                           notes=notes or ticket.description[:2000], address=address,
                           number=next_number("work_order", "WO"))
    work_order.save()
    emit("work_order.created", work_order, actor=actor)
    return work_order


@dataclass
class Candidate:
    user: User
    visits: int
    booked_minutes: int
    covers_territory: bool

    @property
    def booked_hours(self) -> Decimal:
        return (Decimal(self.booked_minutes) / 60).quantize(Decimal("0.1"))


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    starts = datetime.combine(day, time.min, tzinfo=zone)
    return starts, datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)


def territory_ids(territory: Territory | None) -> list[int]:
    """The customer's region and the regions above it: a specialist for Europe also covers Bavaria."""
    if territory is None:
        return []
    return [territory.pk, *(node.pk for node in territory.ancestors())]


def dispatch_candidates(*, work_order: WorkOrder, skill: Skill | None, day: date,
                        any_territory: bool = False) -> list[Candidate]:
    """The specialists with the skill (any skill when none is named) who cover the customer's territory
    (everyone with the skill when `any_territory`), least loaded on the day first. Two queries."""
    regions = territory_ids(work_order.account.territory if work_order.account is not None else None)
    people = User.objects.filter(is_active=True)
    people = people.filter(skills=skill) if skill is not None else people.filter(skills__isnull=False)
    covering = Q(territories__in=regions) if regions else Q()
    if regions and not any_territory:
        people = people.filter(covering)
    starts, ends = _day_bounds(day)
    booked = Q(workorder_visits__scheduled_start__gte=starts, workorder_visits__scheduled_start__lt=ends,
               workorder_visits__status__in=BOOKED, workorder_visits__deleted_at__isnull=True)
    user_ids = list(people.values_list("pk", flat=True).distinct()[:CANDIDATES_SHOWN * 4])
    covers = set(User.objects.filter(pk__in=user_ids).filter(covering).values_list("pk", flat=True)) \
        if regions else set(user_ids)
    loads = (User.objects.filter(pk__in=user_ids)
             .annotate(visits=Count("workorder_visits", filter=booked),
                       booked=Sum(ExpressionWrapper(F("workorder_visits__scheduled_end")
                                                    - F("workorder_visits__scheduled_start"),
                                                    output_field=DurationField()), filter=booked))
             .order_by("first_name", "last_name", "pk"))
    candidates = [Candidate(user=user, visits=user.visits,
                            booked_minutes=int(user.booked.total_seconds() // 60) if user.booked else 0,
                            covers_territory=user.pk in covers) for user in loads]
    candidates.sort(key=lambda c: (not c.covers_territory, c.booked_minutes, c.visits))
    return candidates[:CANDIDATES_SHOWN]


def _notify(user: User | None, actor: User, text_for: Callable[[], str], work_order: WorkOrder) -> None:
    if user is None or user.pk == actor.pk or not user.is_active:
        return
    with translation.override(user.language or settings.LANGUAGE_CODE):
        text = text_for()
    Notification.objects.create(user=user, kind=NotificationKind.ASSIGNMENT, text=text[:300],
                                url=work_order.get_absolute_url())


@transaction.atomic
def work_order_dispatch(*, work_order: WorkOrder, actor: User, specialist: User, starts: datetime,
                        ends: datetime, skill: Skill | None = None) -> WorkOrder:
    """Sends the specialist for the time slot; the visit shows on their calendar and day list."""
    work_order = _locked(work_order)
    if not work_order.is_open:
        raise ValidationError(_("A work order that is %(status)s cannot be dispatched.")
                              % {"status": work_order.get_status_display().lower()})
    if ends <= starts:
        raise ValidationError({"ends": _("The visit must end after it starts.")})
    skill = skill if skill is not None else work_order.skill
    if skill is not None and not skill.specialists.filter(pk=specialist.pk).exists():
        raise ValidationError({"specialist": _("%(name)s does not have the skill “%(skill)s”.")
                               % {"name": specialist, "skill": skill}})
    _check_working_hours(specialist, starts, ends)
    _check_travel_time(work_order, specialist, starts, ends)
    work_order.owner, work_order.team_id, work_order.skill = specialist, specialist.team_id, skill
    work_order.scheduled_start, work_order.scheduled_end = starts, ends
    if work_order.status == WorkOrderStatus.NEW:
        work_order.status = WorkOrderStatus.SCHEDULED
    work_order.full_clean(exclude=["number", "ticket", "account", "contact"])
    work_order.save()

    def text() -> str:
        local = timezone.localtime(starts, timezone=_zone_of(specialist))
        return _("%(actor)s sent you on %(number)s for %(customer)s, %(when)s.") % {
            "actor": actor, "number": work_order.number, "customer": work_order.account or work_order.ticket.subject,
            "when": local.strftime("%Y-%m-%d %H:%M")}

    _notify(specialist, actor, text, work_order)
    emit("work_order.scheduled", work_order, actor=actor)
    return work_order


def _check_working_hours(specialist: User, starts: datetime, ends: datetime) -> None:
    """Refuses a visit that is not wholly within the specialist's working hours (SpecialistHours), when set."""
    row = SpecialistHours.objects.select_related("calendar").filter(specialist=specialist).first()
    if row is None:
        return
    if sla.business_seconds_between(row.calendar.hours(), starts, ends) < (ends - starts).total_seconds() - 1:
        raise ValidationError({"starts": _("%(name)s works %(calendar)s: the visit is outside those hours.")
                               % {"name": specialist, "calendar": row.calendar}})


def _check_travel_time(work_order: WorkOrder, specialist: User, starts: datetime, ends: datetime) -> None:
    """Refuses a slot that leaves the specialist less than SERVICE_TRAVEL_MINUTES between it and another of
    their open visits (scheduled or in progress). The specialist's row is locked first, so two dispatchers
    booking the same person at once are checked one after the other."""
    User.objects.select_for_update().filter(pk=specialist.pk).first()
    travel = timedelta(minutes=settings.SERVICE_TRAVEL_MINUTES)
    clash = (WorkOrder.objects.filter(owner=specialist, deleted_at__isnull=True,
                                      status__in=(WorkOrderStatus.SCHEDULED, WorkOrderStatus.IN_PROGRESS),
                                      scheduled_start__lt=ends + travel, scheduled_end__gt=starts - travel)
             .exclude(pk=work_order.pk).order_by("scheduled_start").first())
    if clash is None:
        return
    zone = timezone.get_current_timezone()
    raise ValidationError({"starts": _(
        "%(name)s has %(number)s from %(starts)s to %(ends)s; visits need %(minutes)s minutes between them for "
        "the way.") % {"name": specialist, "number": clash.number, "minutes": settings.SERVICE_TRAVEL_MINUTES,
                       "starts": timezone.localtime(clash.scheduled_start, zone).strftime("%H:%M"),
                       "ends": timezone.localtime(clash.scheduled_end, zone).strftime("%H:%M")}})


def _zone_of(user: User) -> tzinfo:
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(user.time_zone or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return timezone.get_current_timezone()


@transaction.atomic
def work_order_start(*, work_order: WorkOrder, actor: User, now: datetime | None = None) -> WorkOrder:
    work_order = _locked(work_order)
    if work_order.status != WorkOrderStatus.SCHEDULED:
        raise ValidationError(_("Only a scheduled visit can be started; this one is %(status)s.")
                              % {"status": work_order.get_status_display().lower()})
    work_order.status, work_order.started_at = WorkOrderStatus.IN_PROGRESS, now or timezone.now()
    work_order.save(update_fields=["status", "started_at", "updated_at"])
    emit("work_order.started", work_order, actor=actor)
    return work_order


@transaction.atomic
def work_order_finish(*, work_order: WorkOrder, actor: User, now: datetime | None = None) -> WorkOrder:
    work_order = _locked(work_order)
    if work_order.status not in (WorkOrderStatus.SCHEDULED, WorkOrderStatus.IN_PROGRESS):
        raise ValidationError(_("Only a scheduled or started visit can be finished; this one is %(status)s.")
                              % {"status": work_order.get_status_display().lower()})
    now = now or timezone.now()
    work_order.status, work_order.finished_at = WorkOrderStatus.DONE, now
    work_order.started_at = work_order.started_at or now
    work_order.save(update_fields=["status", "started_at", "finished_at", "updated_at"])
    emit("work_order.completed", work_order, actor=actor)
    return work_order


@transaction.atomic
def work_order_cancel(*, work_order: WorkOrder, actor: User) -> WorkOrder:
    work_order = _locked(work_order)
    if not work_order.is_open:
        raise ValidationError(_("A work order that is %(status)s cannot be cancelled.")
                              % {"status": work_order.get_status_display().lower()})
    work_order.status = WorkOrderStatus.CANCELLED
    work_order.save(update_fields=["status", "updated_at"])
    emit("work_order.cancelled", work_order, actor=actor)
    return work_order


@transaction.atomic
def work_order_log(*, work_order: WorkOrder, actor: User, **fields: Any) -> WorkLog:
    """Time, a material or an expense on the visit; it counts on the ticket (and its contract) too."""
    if work_order.status == WorkOrderStatus.CANCELLED:
        raise ValidationError(_("Nothing can be logged on a cancelled work order."))
    return contract_services.work_log_add(ticket=work_order.ticket, actor=actor, work_order=work_order, **fields)


def can_bill(user: User) -> bool:
    """Billing writes an order and an invoice for the customer's owner: the desk's lead and admins do it."""
    return user.is_authenticated and user.is_active and (user.is_superuser or user.role in BILLING_ROLES)


def unbilled_logs(work_order: WorkOrder) -> QuerySet[WorkLog]:
    return (WorkLog.objects.filter(work_order=work_order, billed_order__isnull=True)
            .select_related("product", "user").order_by("worked_on", "id"))


def _priced_lines(logs: list[WorkLog], labour: Product | None) -> tuple[list[OrderLine], str]:
    """One order line per log, and the one currency they share."""
    lines, currencies = [], set()
    for log in logs:
        by = f"{log.worked_on.isoformat()} · {log.user}" + (f" · {log.note}" if log.note else "")
        if log.kind == WorkKind.TIME:
            if labour is None:
                raise ValidationError({"labour": _("Pick the catalogue item that time is billed as.")})
            hours = (Decimal(log.minutes or 0) / 60).quantize(Decimal("0.01"))
            lines.append(OrderLine(product=labour, name=labour.name, description=by[:500], quantity=hours,
                                   unit=_("h"), unit_price=labour.default_price, tax_rate=labour.tax_rate))
            currencies.add(labour.currency)
        elif log.kind == WorkKind.MATERIAL:
            quantity = log.quantity or Decimal(1)
            unit_price = ((log.amount or Decimal(0)) / quantity).quantize(Decimal("0.01"))
            lines.append(OrderLine(product=log.product, name=log.product.name if log.product else _("Material"),
                                   description=by[:500], quantity=quantity,
                                   unit=log.product.unit if log.product else "", unit_price=unit_price,
                                   tax_rate=log.product.tax_rate if log.product else Decimal(0)))
            currencies.add(log.currency)
        else:
            lines.append(OrderLine(name=(log.note or _("Expense"))[:200], description=by[:500], quantity=Decimal(1),
                                   unit_price=log.amount or Decimal(0)))
            currencies.add(log.currency)
    currencies.discard("")
    if len(currencies) > 1:
        raise ValidationError(_("The work was logged in several currencies (%(currencies)s): one order takes one "
                                "currency.") % {"currencies": ", ".join(sorted(currencies))})
    return lines, (currencies.pop() if currencies else settings.DEFAULT_CURRENCY)


@transaction.atomic
def work_order_bill(*, work_order: WorkOrder, actor: User, labour: Product | None = None,
                    now: datetime | None = None) -> tuple[Order, Invoice]:
    """An order and its invoice for the work order's unbilled logs, owned by the customer's owner (the
    sales flow from there: payments, receivables). Each log is billed exactly once: the logs are claimed
    with a compare-and-set UPDATE after the order is written; if another biller claimed any of them
    first, this whole transaction (its order and invoice too) rolls back."""
    now = now or timezone.now()
    work_order = WorkOrder.objects.select_related("account__owner", "skill__labour_product", "ticket").get(
        pk=work_order.pk)
    account = work_order.account
    if account is None:
        raise ValidationError(_("This work order has no customer account to bill."))
    logs = list(unbilled_logs(work_order))
    if not logs:
        raise ValidationError(_("Everything logged on this work order is billed already."))
    labour = labour or (work_order.skill.labour_product if work_order.skill is not None else None)
    lines, currency = _priced_lines(logs, labour)
    order = billing_services.order_create_from_lines(
        actor=actor, account=account, owner=account.owner, currency=currency, lines=lines,
        shipping_address=work_order.address,
        notes=_("Field work: %(work_order)s for ticket %(ticket)s.") % {"work_order": work_order.number,
                                                                        "ticket": work_order.ticket.number})
    claimed = (WorkLog.objects.filter(pk__in=[log.pk for log in logs], billed_order__isnull=True)
               .update(billed_order=order, billed_at=now))
    if claimed != len(logs):
        raise ValidationError(_("Some of this work was billed meanwhile. Reload the page to see what is left."))
    invoice = billing_services.invoice_create_from_order(order=order, actor=actor)
    emit("work_order.billed", work_order, actor=actor, key=f"work_order.billed:{work_order.pk}:{order.pk}")
    return order, invoice


def work_rollup(logs: QuerySet[WorkLog] | list[WorkLog]) -> dict[str, Any]:
    """Minutes and money of work logs (contract_services.work_totals), with what is not billed yet: a
    QuerySet is summed in the database (two queries), a list of logs already read in Python."""
    totals = contract_services.work_totals(logs)
    unbilled: list[dict[str, Any]]
    if isinstance(logs, list):
        unbilled = [{"currency": log.currency, "minutes": log.minutes, "amount": log.amount} for log in logs
                    if log.billed_order_id is None]
    else:
        unbilled = [dict(row) for row in logs.filter(billed_order__isnull=True).values("currency").annotate(
            minutes=Sum("minutes"), amount=Sum("amount"))]
    totals["unbilled_minutes"], totals["unbilled"] = 0, {}
    for row in unbilled:
        totals["unbilled_minutes"] += row["minutes"] or 0
        if row["amount"] is not None:
            totals["unbilled"][row["currency"]] = totals["unbilled"].get(row["currency"], Decimal(0)) + row["amount"]
    return totals


# --- Read models for panels: visits and roll-ups inside the page's own query ---------------------


@dataclass
class Visit:
    """A work order as a record page lists it (read through `visit_rows`, no query of its own)."""

    pk: int
    number: str
    status: str
    starts: datetime | None
    owner_name: str

    def get_absolute_url(self) -> str:
        return reverse("service:work_order_detail", args=[self.pk])

    def get_status_display(self) -> str:
        return str(WorkOrderStatus(self.status).label)


def visit_rows(work_orders: QuerySet[WorkOrder], limit: int) -> ArraySubquery:
    """An annotation: the first `limit` work orders as JSON, open ones first, then by visit time."""
    rows = (work_orders.annotate(open_first=Case(When(status__in=OPEN_WORK_ORDER_STATUSES, then=Value(0)),
                                                 default=Value(1)))
            .order_by("open_first", F("scheduled_start").desc(nulls_first=True), "-id")
            .values(json=JSONObject(id="id", number="number", status="status", starts="scheduled_start",
                                    first="owner__first_name", last="owner__last_name", email="owner__email"))[:limit])
    return ArraySubquery(rows)


def visits_from(rows: list[dict[str, Any]] | None) -> list[Visit]:
    visits = []
    for row in rows or []:
        name = f"{row['first'] or ''} {row['last'] or ''}".strip() or (row["email"] or "")
        visits.append(Visit(pk=row["id"], number=row["number"], status=row["status"], owner_name=name,
                            starts=datetime.fromisoformat(row["starts"]) if row["starts"] else None))
    return visits


def rollup_rows(logs: QuerySet[WorkLog]) -> ArraySubquery:
    """An annotation: the logs' minutes and money per currency, all and unbilled, as JSON rows."""
    unbilled = Q(billed_order__isnull=True)
    rows = (logs.order_by().values("currency")
            .annotate(m=Sum("minutes"), a=Sum("amount"), um=Sum("minutes", filter=unbilled),
                      ua=Sum("amount", filter=unbilled))
            .values(json=JSONObject(currency="currency", minutes="m", amount="a", unbilled_minutes="um",
                                    unbilled="ua")))
    return ArraySubquery(rows)


def rollup_from(rows: list[dict[str, Any]] | None) -> dict[str, Any]:
    totals: dict[str, Any] = {"minutes": 0, "money": {}, "unbilled_minutes": 0, "unbilled": {}}
    for row in rows or []:
        totals["minutes"] += row["minutes"] or 0
        totals["unbilled_minutes"] += row["unbilled_minutes"] or 0
        for key, field in (("money", "amount"), ("unbilled", "unbilled")):
            if row[field] is not None:
                totals[key][row["currency"]] = totals[key].get(row["currency"], Decimal(0)) + Decimal(str(row[field]))
    return totals


def day_list(user: User, day: date) -> QuerySet[WorkOrder]:
    """The specialist's visits on the day, in order (the day list)."""
    starts, ends = _day_bounds(day)
    return (WorkOrder.objects.visible_to(user)
            .filter(owner=user, scheduled_start__gte=starts, scheduled_start__lt=ends)
            .exclude(status=WorkOrderStatus.CANCELLED)
            .select_related("ticket", "account", "contact", "skill").order_by("scheduled_start", "id"))

