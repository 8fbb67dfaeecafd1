"""Orders, invoices, payments and receivables pages.

Views are short: parse → authorize (visibility policy: hidden = 404, read-only = 403) → call a
service in sales/billing_services.py → redirect with a message, or render.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Account
from crm.forms import add_service_errors
from crm.list_tools import to_int
from crm.pagination import paginate
from crm.roles import Role
from crm.visibility import (
    can_edit,
    can_see,
    get_editable_or_404,
    get_visible_or_404,
    require_create,
    require_read,
    with_visibility_flag,
)
from sales import billing_services, receivables
from sales.billing_forms import DirectOrderForm, DirectOrderLineFormSet, PaymentForm, PromiseForm, ShipmentForm
from sales.models import (
    CompanyProfile,
    Invoice,
    InvoiceStatus,
    Order,
    OrderStatus,
    Quote,
)
from sales.pdf import render_pdf
from sales.services import StaleWrite

PER_PAGE = 50
RECEIVABLE_ROLES = {Role.ADMIN, Role.EXECUTIVE, Role.SALES_MANAGER}
OPEN_INVOICES_SHOWN = 100


def _stale_message(request) -> None:
    messages.error(request, _("Somebody else changed this record meanwhile. Nothing was saved: the page now shows "
                              "the current version; try again."))


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


# --- Orders --------------------------------------------------------------------------------


def _order_context(request, order: Order, **extra) -> dict:
    can_change = can_edit(request.user, order)
    context = {
        "order": order,
        "account_visible": _account_visible(request, order),
        "lines": list(order.lines.all()),
        "shipments": list(order.shipments.select_related("recorded_by")),
        "invoices": list(order.invoices.only("id", "number", "status", "total", "currency", "due_date", "order_id",
                                             "issue_date", "amount_paid")),
        "can_edit": can_change,
        "transitions": [(status, OrderStatus(status).label)
                        for status in billing_services.ORDER_TRANSITIONS.get(order.status, ())
                        if status != OrderStatus.SHIPPED],  # a shipment moves it to shipped
        "can_ship": can_change and order.status in (OrderStatus.CONFIRMED, OrderStatus.SHIPPED),
        "shipment_form": extra.pop("shipment_form", None) or ShipmentForm(initial={"shipped_on": timezone.localdate()}),
        "quote_url": _quote_url(order.quote) if order.quote_id else "",
        "promise_form": extra.pop("promise_form", None) or PromiseForm(
            initial={"promised_on": order.promised_on, "version": order.lock_version}),
        "can_promise": can_change and order.status != OrderStatus.CANCELLED,
    }
    first_shipped_on = min((shipment.shipped_on for shipment in context["shipments"]), default=None)
    context["first_shipped_on"] = first_shipped_on
    context["punctuality"] = order.punctuality(first_shipped_on)
    context["can_invoice"] = can_change and order.status != OrderStatus.CANCELLED and not any(
        invoice.status != InvoiceStatus.CANCELLED for invoice in context["invoices"])
    context.update(extra)
    return context


def _account_visible(request, document) -> bool:
    """Whether the reader may open the document's account: a rep's order or invoice on a colleague's
    account never names it. The detail pages annotate it in their one query."""
    flag = getattr(document, "account_visible", None)
    return can_see(request.user, document.account) if flag is None else flag


def _quote_url(quote) -> str:
    try:
        return quote.get_absolute_url()
    except NoReverseMatch:  # the quote pages may not be installed
        return ""


def _order_queryset():
    return Order.objects.select_related("account", "owner", "team", "quote")


def order_detail(request, pk: int):
    order = get_visible_or_404(with_visibility_flag(_order_queryset(), request.user, "account"), request.user, pk=pk)
    return render(request, "sales/order_detail.html", _order_context(request, order))


def order_create(request):
    """An order entered directly for a customer (phone or walk-in), without a quote."""
    require_create(request.user, Order)
    form = DirectOrderForm(request.POST or None, user=request.user)
    lines = DirectOrderLineFormSet(request.POST or None, prefix="lines")
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        data = form.cleaned_data
        try:
            order = billing_services.order_create_direct(
                actor=request.user, account=data["account"], currency=data["currency"],
                price_book=data["price_book"], ordered_on=data["ordered_on"], promised_on=data["promised_on"],
                notes=data["notes"],
                shipping_address=data["shipping_address"],
                lines=[line for line in (line_form.line() for line_form in lines) if line])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Order %(number)s was created.") % {"number": order.number})
            return redirect(order)
    return render(request, "sales/order_form.html", {"form": form, "lines": lines})


@require_POST
def order_create_from_quote(request, pk: int):
    quote = get_visible_or_404(Quote, request.user, pk=pk)
    if not can_edit(request.user, quote):
        raise PermissionDenied
    try:
        order = billing_services.order_create_from_quote(quote=quote, actor=request.user)
    except ValidationError as error:
        messages.error(request, _error_text(error))
        existing = Order.objects.visible_to(request.user).filter(quote=quote).first()
        return redirect(existing or _quote_url(quote) or reverse("sales:order_list"))
    messages.success(request, _("Order %(number)s was created from quote %(quote)s.")
                     % {"number": order.number, "quote": quote.display_number})
    return redirect(order)


@require_POST
def order_status(request, pk: int):
    order = get_editable_or_404(Order, request.user, pk=pk)
    status = request.POST.get("status", "")
    try:
        order = billing_services.order_set_status(order=order, status=status, actor=request.user,
                                                  expected_version=to_int(request.POST.get("version")))
    except StaleWrite:
        _stale_message(request)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("Order %(number)s is now %(status)s.")
                         % {"number": order.number, "status": order.get_status_display().lower()})
    return redirect("sales:order_detail", pk=order.pk)


@require_POST
def order_promise(request, pk: int):
    """Sets or clears the delivery date promised to the customer."""
    order = get_editable_or_404(_order_queryset(), request.user, pk=pk)
    form = PromiseForm(request.POST)
    if form.is_valid():
        try:
            order = billing_services.order_set_promised_on(
                order=order, promised_on=form.cleaned_data["promised_on"], actor=request.user,
                expected_version=form.cleaned_data["version"])
        except StaleWrite:
            _stale_message(request)
            return redirect("sales:order_detail", pk=order.pk)
        except ValidationError as error:
            if not hasattr(error, "error_dict"):  # about the order, not the date (a cancelled order)
                messages.error(request, _error_text(error))
                return redirect("sales:order_detail", pk=order.pk)
            add_service_errors(form, error)
        else:
            if order.promised_on:
                messages.success(request, _("Delivery promised for %(day)s.")
                                 % {"day": date_format(order.promised_on, "SHORT_DATE_FORMAT")})
            else:
                messages.success(request, _("The promised delivery date was cleared."))
            return redirect("sales:order_detail", pk=order.pk)
    messages.error(request, _("The promised delivery date was not saved: check the date."))
    order.refresh_from_db()
    return render(request, "sales/order_detail.html", _order_context(request, order, promise_form=form), status=400)


@require_POST
def order_shipment_add(request, pk: int):
    order = get_editable_or_404(_order_queryset(), request.user, pk=pk)
    form = ShipmentForm(request.POST)
    if form.is_valid():
        try:
            billing_services.shipment_record(order=order, actor=request.user,
                                             expected_version=to_int(request.POST.get("version")),
                                             **form.cleaned_data)
        except StaleWrite:
            _stale_message(request)
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(request, _("The shipment was recorded."))
        return redirect("sales:order_detail", pk=order.pk)
    messages.error(request, _("Check the shipment: some fields need attention."))
    return render(request, "sales/order_detail.html", _order_context(request, order, shipment_form=form), status=400)


# --- Invoices ------------------------------------------------------------------------------


def _invoice_queryset():
    return Invoice.objects.select_related("account", "owner", "team", "order")


def _invoice_context(request, invoice: Invoice, **extra) -> dict:
    can_change = can_edit(request.user, invoice)
    payments = list(invoice.payments.select_related("recorded_by"))
    context = {
        "invoice": invoice,
        "account_visible": _account_visible(request, invoice),
        "lines": list(invoice.lines.all()),
        "payments": payments,
        "can_edit": can_change,
        "can_pay": can_change and invoice.status in (InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID),
        "can_cancel": can_change and invoice.status != InvoiceStatus.CANCELLED and not payments,
        "payment_form": extra.pop("payment_form", None) or PaymentForm(
            initial={"amount": invoice.balance, "paid_on": timezone.localdate(), "version": invoice.lock_version}),
        "overdue": invoice.status in (InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID)
        and invoice.due_date < timezone.localdate(),
    }
    context.update(extra)
    return context


def invoice_detail(request, pk: int):
    invoice = get_visible_or_404(with_visibility_flag(_invoice_queryset(), request.user, "account"), request.user,
                                 pk=pk)
    return render(request, "sales/invoice_detail.html", _invoice_context(request, invoice))


@require_POST
def invoice_create_from_order(request, pk: int):
    order = get_editable_or_404(Order, request.user, pk=pk)
    try:
        invoice = billing_services.invoice_create_from_order(order=order, actor=request.user)
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return redirect(order)
    messages.success(request, _("Invoice %(number)s was issued, due on %(due)s.")
                     % {"number": invoice.number, "due": date_format(invoice.due_date, "SHORT_DATE_FORMAT")})
    return redirect(invoice)


@require_POST
def payment_add(request, pk: int):
    invoice = get_editable_or_404(_invoice_queryset(), request.user, pk=pk)
    form = PaymentForm(request.POST)
    if form.is_valid():
        try:
            data = dict(form.cleaned_data)
            billing_services.payment_record(invoice=invoice, actor=request.user, expected_version=data.pop("version"),
                                            **data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if invoice.status == InvoiceStatus.PAID:
                messages.success(request, _("Payment recorded: invoice %(number)s is paid in full.")
                                 % {"number": invoice.number})
            else:
                messages.success(request, _("Payment recorded: %(balance)s %(currency)s still to pay.")
                                 % {"balance": number_format(invoice.balance, force_grouping=True),
                                    "currency": invoice.currency})
            return redirect(invoice)
    messages.error(request, _("The payment was not recorded: check the form."))
    invoice.refresh_from_db()
    return render(request, "sales/invoice_detail.html", _invoice_context(request, invoice, payment_form=form),
                  status=400)


@require_POST
def invoice_cancel(request, pk: int):
    invoice = get_editable_or_404(Invoice, request.user, pk=pk)
    try:
        billing_services.invoice_cancel(invoice=invoice, actor=request.user,
                                        expected_version=to_int(request.POST.get("version")))
    except StaleWrite:
        _stale_message(request)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("Invoice %(number)s was cancelled.") % {"number": invoice.number})
    return redirect(invoice)


def invoice_pdf(request, pk: int):
    invoice = get_visible_or_404(_invoice_queryset(), request.user, pk=pk)
    profile = CompanyProfile.current()
    pdf = render_pdf(builtin="sales/pdf/invoice.html", source=profile.invoice_template,
                     context=invoice_pdf_context(invoice, profile))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{invoice.number}.pdf"'
    return response


def invoice_pdf_context(invoice: Invoice, profile: CompanyProfile) -> dict:
    logo_url = ""
    if profile.logo:
        try:
            logo_url = f"file://{profile.logo.path}"
        except (NotImplementedError, ValueError):
            logo_url = ""
    return {
        "company": profile, "logo_url": logo_url, "invoice": invoice, "account": invoice.account,
        "order": invoice.order, "lines": list(invoice.lines.all()), "balance": invoice.balance,
        "payments": list(invoice.payments.all()),
    }


# --- Receivables ---------------------------------------------------------------------------


def receivables_overview(request):
    """Company-wide: accounts with an outstanding balance, most overdue first (managers see their
    teams', executives and admins everyone's)."""
    user = request.user
    require_read(user, Invoice)  # roles without sales data: 404, as on every sales page
    if not (user.is_superuser or user.role in RECEIVABLE_ROLES):
        raise PermissionDenied
    today = timezone.localdate()
    page = paginate(receivables.receivables_by_account(user, today), request.GET.get("page"), per_page=PER_PAGE)
    totals = list(receivables.outstanding_invoices(user).order_by("currency").values("currency")
                  .annotate(**receivables.aggregates(today)))
    return render(request, "sales/receivables.html", {"page": page, "totals": totals, "today": today})


def account_receivables(request, pk: int):
    account = get_visible_or_404(Account, request.user, pk=pk)
    require_read(request.user, Order)
    today = timezone.localdate()
    open_invoices = list(receivables.outstanding_invoices(request.user).filter(account=account)
                         .select_related("owner").order_by("due_date", "id")[: OPEN_INVOICES_SHOWN + 1])
    for invoice in open_invoices:
        invoice.days_past_due = (today - invoice.due_date).days
    return render(request, "sales/receivables_account.html", {
        "account": account, "rows": receivables.account_receivables(request.user, account, today),
        "invoices": open_invoices[:OPEN_INVOICES_SHOWN], "more": len(open_invoices) > OPEN_INVOICES_SHOWN,
        "today": today,
    })

