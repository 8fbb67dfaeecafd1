"""Writes on orders, shipments, invoices and payments.

An accepted quote becomes an order (its lines copied and frozen); an order becomes an invoice;
payments are recorded against an invoice, never more than its balance. Totals always come from
sales.money.compute_totals; numbers from sales.services.next_number (gap-free per year).
"""

import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from crm.models import User
from sales.models import (
    CompanyProfile,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    Quote,
    QuoteStatus,
    Shipment,
)
from sales.money import compute_totals, round_money
from sales.product_services import document_price
from sales.services import bump_version, check_version, next_number
from webhooks.services import emit

# Which status an order may move to from each status (recording a shipment moves confirmed → shipped).
ORDER_TRANSITIONS: dict[str, tuple[str, ...]] = {
    OrderStatus.NEW: (OrderStatus.CONFIRMED, OrderStatus.CANCELLED),
    OrderStatus.CONFIRMED: (OrderStatus.SHIPPED, OrderStatus.CANCELLED),
    OrderStatus.SHIPPED: (OrderStatus.DELIVERED,),
    OrderStatus.DELIVERED: (),
    OrderStatus.CANCELLED: (),
}
LINE_FIELDS = ("product_id", "name", "description", "quantity", "unit", "unit_price", "discount_pct", "tax_rate",
               "position")


def _copy_lines(source_lines, line_model, **parent) -> list:
    return [line_model(**parent, **{name: getattr(line, name) for name in LINE_FIELDS}) for line in source_lines]


def _apply_totals(document, lines: list) -> None:
    """Writes the document's and each line's totals, computed in the one place that adds up money."""
    totals = compute_totals(lines, currency=document.currency, discount_pct=document.discount_pct)
    for line, amounts in zip(lines, totals.lines, strict=True):
        line.line_total = amounts.total
    document.subtotal, document.discount_total = totals.subtotal, totals.discount_total
    document.tax_total, document.total = totals.tax_total, totals.total


# --- Orders --------------------------------------------------------------------------------


@transaction.atomic
def order_create_from_quote(*, quote: Quote, actor: User) -> Order:
    """The accepted quote becomes an order, once. The quote row is locked first, so two clicks at
    the same moment make one order and the second one is told which."""
    quote = Quote.objects.select_for_update().select_related("account").get(pk=quote.pk)
    if quote.status != QuoteStatus.ACCEPTED:
        raise ValidationError(_("Only an accepted quote can become an order; this one is %(status)s.")
                              % {"status": quote.get_status_display().lower()})
    existing = Order.objects.filter(quote=quote).only("number").first()
    if existing is not None:
        raise ValidationError(_("Quote %(quote)s already became order %(order)s.")
                              % {"quote": quote.display_number, "order": existing.number})
    account = quote.account
    order = Order(
        owner_id=quote.owner_id, team_id=quote.team_id, shared_with_team=quote.shared_with_team,
        quote=quote, opportunity_id=quote.opportunity_id, account=account,
        currency=quote.currency, discount_pct=quote.discount_pct,
        shipping_address=account.shipping_address or account.address, notes=quote.notes,
        number=next_number("order", "SO"),
    )
    lines = _copy_lines(quote.lines.order_by("position", "id"), OrderLine)
    _apply_totals(order, lines)
    order.save()
    for line in lines:
        line.order = order
    OrderLine.objects.bulk_create(lines)
    emit("order.created", order, actor=actor)
    return order


PROMISE_SLACK = datetime.timedelta(days=731)


def check_promised_on(promised_on: datetime.date | None, ordered_on: datetime.date) -> None:
    """A promised delivery date is on or after the order date, and within two years of it."""
    if promised_on is None:
        return
    if promised_on < ordered_on:
        raise ValidationError({"promised_on": _("The promised delivery date cannot be before the order date "
                                                "(%(day)s).") % {"day": date_format(ordered_on, "SHORT_DATE_FORMAT")}})
    if promised_on > ordered_on + PROMISE_SLACK:
        raise ValidationError({"promised_on": _("The promised delivery date must be within two years of the "
                                                "order date.")})


@transaction.atomic
def order_create_from_lines(*, actor: User, account, owner: User, currency: str, lines: list[OrderLine],
                            notes: str = "", shipping_address: str = "",
                            ordered_on: datetime.date | None = None,
                            promised_on: datetime.date | None = None) -> Order:
    """An order without a quote, for work already done (the service desk bills field work this way):
    the given unsaved lines, totalled in the one place that adds up money, and numbered like any order."""
    if not lines:
        raise ValidationError(_("An order needs at least one line."))
    ordered_on = ordered_on or timezone.localdate()
    check_promised_on(promised_on, ordered_on)
    order = Order(owner=owner, team_id=owner.team_id, account=account, currency=currency, notes=notes,
                  shipping_address=shipping_address or account.shipping_address or account.address,
                  ordered_on=ordered_on, promised_on=promised_on, number="-")
    order.full_clean(exclude=["number", "owner", "team", "account"])
    order.number = next_number("order", "SO")  # taken last: a refused order takes no number
    for position, line in enumerate(lines):
        line.position = position
    _apply_totals(order, lines)
    order.save()
    for line in lines:
        line.order = order
    OrderLine.objects.bulk_create(lines)
    emit("order.created", order, actor=actor)
    return order


ORDER_DATE_SLACK = datetime.timedelta(days=366)


@transaction.atomic
def order_create_direct(*, actor: User, account, currency: str, lines: list[dict], price_book=None,
                        ordered_on: datetime.date | None = None, owner: User | None = None, notes: str = "",
                        shipping_address: str = "", promised_on: datetime.date | None = None) -> Order:
    """An order entered directly for a customer, without a quote (a phone or walk-in order): the same
    numbering, totals and events as an order from a quote. Each line is a product (priced from the price
    book, or its own price in the order's currency; refused otherwise) or a typed item with its price.
    The caller has checked that the actor may see `account`."""
    owner = owner or actor
    currency = (currency or "").strip().upper()
    today = timezone.localdate()
    ordered_on = ordered_on or today
    if not today - ORDER_DATE_SLACK <= ordered_on <= today + ORDER_DATE_SLACK:
        raise ValidationError({"ordered_on": _("The order date must be within a year of today.")})
    check_promised_on(promised_on, ordered_on)
    made = []
    for number, fields in enumerate(lines, start=1):
        fields = {name: value for name, value in fields.items() if value not in (None, "")}
        product = fields.pop("product", None)
        if product is not None:
            price = document_price(product, price_book, currency)
            fields.setdefault("name", product.name[:200])
            fields.setdefault("unit", product.unit)
            fields.setdefault("unit_price", price)
            fields.setdefault("tax_rate", product.tax_rate)
        elif not fields.get("name") or fields.get("unit_price") is None:
            raise ValidationError(_("Line %(number)s: name the item and give its price, or pick a product.")
                                  % {"number": number})
        line = OrderLine(product=product, **fields)
        try:
            line.full_clean(exclude=["order"])
        except ValidationError as error:
            raise ValidationError(_("Line %(number)s: %(error)s") % {
                "number": number, "error": " ".join(error.messages)}) from None
        made.append(line)
    return order_create_from_lines(actor=actor, account=account, owner=owner, currency=currency, lines=made,
                                   notes=notes, shipping_address=shipping_address, ordered_on=ordered_on,
                                   promised_on=promised_on)


@transaction.atomic
def order_set_promised_on(*, order: Order, promised_on: datetime.date | None, actor: User,
                          expected_version: int | None = None) -> Order:
    """Sets (or clears, with None) the delivery date promised to the customer: the customers dashboard counts
    the order on time when its first shipment left on or before that day. Raises StaleWrite when somebody
    changed the order since `expected_version`."""
    current = check_version(Order, pk=order.pk, expected=expected_version)
    if current.status == OrderStatus.CANCELLED:
        raise ValidationError(_("A cancelled order is not shipped."))
    check_promised_on(promised_on, current.ordered_on)
    if current.promised_on == promised_on:
        return current
    current.promised_on = promised_on
    bump_version(current)
    current.save(update_fields=["promised_on", "lock_version", "updated_at"])
    current.refresh_from_db(fields=["lock_version"])
    emit("order.updated", current, actor=actor)
    return current


@transaction.atomic
def order_set_status(*, order: Order, status: str, actor: User, expected_version: int | None = None) -> Order:
    """Moves an order along new → confirmed → shipped → delivered, or cancels it while it is new or
    confirmed. Raises StaleWrite when somebody changed the order since `expected_version`."""
    current = check_version(Order, pk=order.pk, expected=expected_version)
    if status not in ORDER_TRANSITIONS.get(current.status, ()):
        raise ValidationError(_("An order that is %(current)s cannot become %(wanted)s.") % {
            "current": current.get_status_display().lower(),
            "wanted": OrderStatus(status).label.lower() if status in OrderStatus.values else status})
    if status == OrderStatus.CANCELLED and current.invoices.exclude(status=InvoiceStatus.CANCELLED).exists():
        raise ValidationError(_("This order has an invoice: cancel the invoice before cancelling the order."))
    current.status = status
    bump_version(current)
    current.save(update_fields=["status", "lock_version", "updated_at"])
    current.refresh_from_db(fields=["lock_version"])
    emit("order.updated", current, actor=actor)
    return current


@transaction.atomic
def shipment_record(*, order: Order, actor: User, shipped_on: datetime.date | None = None, carrier: str = "",
                    tracking_number: str = "", note: str = "", expected_version: int | None = None) -> Shipment:
    """Records a shipment; the first one moves a confirmed order to shipped."""
    current = check_version(Order, pk=order.pk, expected=expected_version)
    if current.status == OrderStatus.NEW:
        raise ValidationError(_("Confirm the order before recording a shipment."))
    if current.status == OrderStatus.CANCELLED:
        raise ValidationError(_("A cancelled order is not shipped."))
    shipment = Shipment(order=current, shipped_on=shipped_on or timezone.localdate(), carrier=carrier,
                        tracking_number=tracking_number, note=note, recorded_by=actor)
    shipment.full_clean()
    shipment.save()
    if current.status == OrderStatus.CONFIRMED:
        current.status = OrderStatus.SHIPPED
        bump_version(current)
        current.save(update_fields=["status", "lock_version", "updated_at"])
        current.refresh_from_db(fields=["lock_version"])
        emit("order.updated", current, actor=actor)
    return shipment


# --- Invoices ------------------------------------------------------------------------------


@transaction.atomic
def invoice_create_from_order(*, order: Order, actor: User) -> Invoice:
    """Invoices an order: issued today, due after CompanyProfile.invoice_due_days. An order is
    invoiced once (again only after its invoice was cancelled); the order row is locked meanwhile."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status == OrderStatus.CANCELLED:
        raise ValidationError(_("A cancelled order cannot be invoiced."))
    existing = order.invoices.exclude(status=InvoiceStatus.CANCELLED).only("number").first()
    if existing is not None:
        raise ValidationError(_("Order %(order)s is already invoiced (%(invoice)s). Cancel that invoice first to "
                                "issue a new one.") % {"order": order.number, "invoice": existing.number})
    today = timezone.localdate()
    invoice = Invoice(
        owner_id=order.owner_id, team_id=order.team_id, shared_with_team=order.shared_with_team,
        order=order, account_id=order.account_id, currency=order.currency, discount_pct=order.discount_pct,
        issue_date=today, due_date=today + datetime.timedelta(days=CompanyProfile.current().invoice_due_days),
        number=next_number("invoice", "INV", on=today),
    )
    lines = _copy_lines(order.lines.order_by("position", "id"), InvoiceLine)
    _apply_totals(invoice, lines)
    invoice.save()
    for line in lines:
        line.invoice = invoice
    InvoiceLine.objects.bulk_create(lines)
    emit("invoice.created", invoice, actor=actor)
    return invoice


@transaction.atomic
def invoice_cancel(*, invoice: Invoice, actor: User, expected_version: int | None = None) -> Invoice:
    """Cancels an invoice nobody paid anything on yet (its order may then be invoiced again)."""
    current = check_version(Invoice, pk=invoice.pk, expected=expected_version)
    if current.status == InvoiceStatus.CANCELLED:
        raise ValidationError(_("This invoice is already cancelled."))
    if current.payments.exists():
        raise ValidationError(_("Payments were recorded on this invoice: it cannot be cancelled."))
    current.status = InvoiceStatus.CANCELLED
    bump_version(current)
    current.save(update_fields=["status", "lock_version", "updated_at"])
    current.refresh_from_db(fields=["lock_version"])
    return current


def _money(value, currency: str) -> Decimal:
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({"amount": _("Enter the amount as a number.")}) from None
    if not amount.is_finite() or amount <= 0:
        raise ValidationError({"amount": _("The amount must be more than zero.")})
    if round_money(amount, currency) != amount:
        raise ValidationError({"amount": _("%(currency)s amounts have at most %(places)s decimal places.") % {
            "currency": currency, "places": -int(round_money(Decimal(1), currency).as_tuple().exponent)}})
    return amount


@transaction.atomic
def payment_record(*, invoice: Invoice, amount, paid_on: datetime.date | None = None, method: str = "bank_transfer",
                   reference: str = "", actor: User, expected_version: int | None = None) -> Payment:
    """Records money received. Partial payments are welcome; more than the balance is refused. The
    invoice row is locked (select_for_update), so two payments at once cannot overpay it together."""
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if expected_version is not None and locked.lock_version != expected_version:
        raise ValidationError(_("This invoice changed since you opened it (a payment may already be recorded). "
                                "Nothing was recorded: check the balance and try again."))
    amount = _money(amount, locked.currency)
    if locked.status == InvoiceStatus.CANCELLED:
        raise ValidationError(_("This invoice is cancelled: no payment can be recorded on it."))
    balance = locked.total - locked.amount_paid
    if balance <= 0:
        raise ValidationError(_("This invoice is already paid in full."))
    if amount > balance:
        raise ValidationError({"amount": _("%(amount)s %(currency)s is more than the balance of %(balance)s "
                                           "%(currency)s: record at most the balance.")
                               % {"amount": number_format(amount, force_grouping=True),
                                  "balance": number_format(balance, force_grouping=True),
                                  "currency": locked.currency}})
    paid_on = paid_on or timezone.localdate()
    if paid_on > timezone.localdate():
        raise ValidationError({"paid_on": _("A payment cannot be dated in the future.")})
    payment = Payment(invoice=locked, amount=amount, paid_on=paid_on, method=method, reference=reference,
                      recorded_by=actor)
    payment.full_clean()
    payment.save()
    locked.amount_paid += amount
    locked.status = InvoiceStatus.PAID if locked.amount_paid >= locked.total else InvoiceStatus.PARTLY_PAID
    bump_version(locked)
    locked.save(update_fields=["amount_paid", "status", "lock_version", "updated_at"])
    locked.refresh_from_db(fields=["lock_version"])
    emit("payment.recorded", payment, actor=actor)
    if locked.status == InvoiceStatus.PAID:
        emit("invoice.paid", locked, actor=actor)
    invoice.amount_paid, invoice.status, invoice.lock_version = locked.amount_paid, locked.status, locked.lock_version
    return payment
