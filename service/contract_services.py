"""Writes on contracts and warranties, which one covers a ticket, what is left of an entitlement, the
renewal deal in one click, and the scheduler source that tells the owner once before one ends."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm import notifications, scheduler
from crm.models import NotificationKind, User
from sales import services as sales_services
from sales.models import Pipeline, StageKind
from service.models import Contract, Entitlement, Ticket, WorkKind, WorkLog
from webhooks.services import emit

BATCH = 500


@transaction.atomic
def contract_create(*, actor: User, owner: User | None = None, **fields) -> Contract:
    """The owner is whoever renews it: the account's owner unless named."""
    contract = Contract(**fields)
    contract.owner = owner or contract.account.owner
    contract.team_id = contract.owner.team_id
    contract.number = "-"
    contract.full_clean(exclude=["number"])
    contract.number = sales_services.next_number("contract", "C")
    contract.save()
    emit("contract.created", contract, actor=actor)
    return contract


@transaction.atomic
def contract_update(*, contract: Contract, actor: User, **fields) -> Contract:
    dates_before = (contract.ends_on, contract.notice_days)
    for name, value in fields.items():
        setattr(contract, name, value)
    if "owner" in fields:
        contract.team_id = contract.owner.team_id
    if (contract.ends_on, contract.notice_days) != dates_before:
        contract.expiry_notified_at = None  # a new end date earns a new notice
    contract.full_clean()
    contract.save()
    emit("contract.updated", contract, actor=actor)
    return contract


@transaction.atomic
def contract_delete(*, contract: Contract, actor: User) -> None:
    contract.deleted_at = timezone.now()
    contract.save(update_fields=["deleted_at", "updated_at"])
    emit("contract.deleted", contract, actor=actor)


def covering_contract(*, account_id: int | None, product_id: int | None = None,
                      on: datetime.date | None = None) -> Contract | None:
    """The contract in force for the account on the day: one for the ticket's product first, then a
    general one; the one that runs longest wins."""
    if account_id is None:
        return None
    on = on or timezone.localdate()
    candidates = Contract.objects.in_force(on).filter(account_id=account_id).filter(
        Q(product__isnull=True) | Q(product_id=product_id)).select_related("sla_policy__calendar")
    best = sorted(candidates, key=lambda c: (c.product_id is None, -c.ends_on.toordinal(), c.pk))
    return best[0] if best else None


def usage(contracts) -> dict[int, Decimal]:
    """What each contract's entitlement has used: its tickets, or the hours logged on them."""
    ids = [contract.pk for contract in contracts]
    tickets = dict(Ticket.objects.filter(contract_id__in=ids, deleted_at__isnull=True).values_list("contract_id")
                   .annotate(n=Count("id")).values_list("contract_id", "n"))
    minutes = dict(WorkLog.objects.filter(ticket__contract_id__in=ids, kind=WorkKind.TIME)
                   .values_list("ticket__contract_id").annotate(m=Sum("minutes"))
                   .values_list("ticket__contract_id", "m"))
    used = {}
    for contract in contracts:
        if contract.entitlement == Entitlement.HOURS:
            used[contract.pk] = (Decimal(minutes.get(contract.pk) or 0) / 60).quantize(Decimal("0.01"))
        else:
            used[contract.pk] = Decimal(tickets.get(contract.pk, 0))
    return used


def remaining(contract: Contract, used: Decimal) -> Decimal | None:
    if contract.entitlement == Entitlement.UNLIMITED or contract.entitled_amount is None:
        return None
    return contract.entitled_amount - used


def _renewal_pipeline() -> Pipeline | None:
    pipelines = Pipeline.objects.filter(active=True)
    return pipelines.filter(name__icontains="renew").first() or pipelines.filter(is_default=True).first()


@transaction.atomic
def contract_renew(*, contract: Contract, actor: User):
    """A renewal deal for the contract's owner, due when the contract ends; made once."""
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if contract.renewal_id:
        return contract.renewal
    pipeline = _renewal_pipeline()
    stage = pipeline.stages.filter(active=True, kind=StageKind.OPEN).order_by("position", "id").first() \
        if pipeline else None
    if stage is None:
        raise ValidationError(_("There is no active pipeline with an open stage to put the renewal in."))
    product = contract.product
    deal = sales_services.opportunity_create(
        actor=actor, owner=contract.owner, name=_("Renewal: %(name)s") % {"name": contract.name},
        account=contract.account, pipeline=pipeline, stage=stage,
        amount=product.default_price if product else Decimal(0),
        currency=product.currency if product else settings.DEFAULT_CURRENCY,
        expected_close_date=contract.ends_on, description=_("Renews %(number)s, which ends on %(date)s.") % {
            "number": contract.number, "date": contract.ends_on.isoformat()})
    Contract.objects.filter(pk=contract.pk).update(renewal=deal)
    return deal


CONTRACT_ENDING = notifications.message(
    "contract.ending", gettext_lazy("%(number)s “%(name)s” of %(account)s ends on %(date)s: time to renew."))


@scheduler.source("contract_expiry")
def notify_expiring_contracts(now: datetime.datetime) -> int:
    """Each contract's owner hears once, `notice_days` before it ends (compare-and-set on
    `expiry_notified_at`, in the same transaction as the notification)."""
    today = timezone.localdate(now)
    candidates = (Contract.objects.filter(expiry_notified_at__isnull=True, deleted_at__isnull=True,
                                          ends_on__gte=today)
                  .order_by("ends_on", "id").values_list("pk", "ends_on", "notice_days")[:BATCH * 4])
    due = [pk for pk, ends_on, notice in candidates if (ends_on - today).days <= notice][:BATCH]
    return sum(expiry_notice_send(contract_id=pk, now=now) for pk in due)


def expiry_notice_send(*, contract_id: int, now: datetime.datetime) -> bool:
    with transaction.atomic():
        claimed = Contract.objects.filter(pk=contract_id, expiry_notified_at__isnull=True).update(
            expiry_notified_at=now)
        if not claimed:
            return False
        contract = Contract.objects.select_related("owner", "account").get(pk=contract_id)
        owner = contract.owner
        notifications.notify(
            user=owner, kind=NotificationKind.REMINDER, url=contract.get_absolute_url(), message=CONTRACT_ENDING,
            params={"number": contract.number, "name": contract.name, "account": contract.account.name,
                    "date": notifications.date(contract.ends_on)},
            key=f"contract-expiry:{contract.pk}:{contract.ends_on.isoformat()}")
        emit("contract.expiring", contract)
    return True


@transaction.atomic
def work_log_add(*, ticket: Ticket, actor: User, **fields) -> WorkLog:
    log = WorkLog(ticket=ticket, user=actor, **fields)
    if log.kind == WorkKind.TIME and not log.minutes:
        raise ValidationError({"minutes": _("Say how many minutes were spent.")})
    if log.kind == WorkKind.MATERIAL and not (log.product_id and log.quantity):
        raise ValidationError({"product": _("Pick the product and the quantity used.")})
    if log.kind == WorkKind.EXPENSE and not log.amount:
        raise ValidationError({"amount": _("Give the amount spent.")})
    if log.kind == WorkKind.MATERIAL and log.amount is None:
        log.amount = (log.product.default_price * log.quantity).quantize(Decimal("0.01"))
        log.currency = log.product.currency
    if log.amount is not None and not log.currency:
        log.currency = settings.DEFAULT_CURRENCY
    log.full_clean()
    log.save()
    return log


def work_totals(logs) -> dict:
    """Minutes, and money per currency, of work logs: a QuerySet is summed in the database (one query),
    a list of logs already read in Python."""
    if hasattr(logs, "values"):
        rows = logs.values("currency").annotate(minutes=Sum("minutes"), amount=Sum("amount"))
    else:
        rows = [{"currency": log.currency, "minutes": log.minutes, "amount": log.amount} for log in logs]
    totals = {"minutes": 0, "money": {}}
    for row in rows:
        totals["minutes"] += row["minutes"] or 0
        if row["amount"] is not None:
            totals["money"][row["currency"]] = totals["money"].get(row["currency"], Decimal(0)) + row["amount"]
    return totals
