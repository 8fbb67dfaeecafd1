"""Quote pages: list, create, detail with lines, PDF, sending, discount approval; the admin pages
for discount thresholds and the company profile with its document templates."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Account
from crm import outbox
from crm.forms import add_service_errors
from crm.models import OutboxStatus
from crm.views import admin_required
from crm.visibility import (
    can_edit,
    can_see,
    get_editable_or_404,
    get_visible_or_404,
    require_create,
    require_read,
)
from sales import quote_services as services
from sales.models import (
    ApprovalStatus,
    CompanyProfile,
    DiscountThreshold,
    Opportunity,
    Order,
    Quote,
    QuoteLine,
    QuoteStatus,
)
from sales.money import compute_totals
from sales.quote_forms import (
    ApprovalDecisionForm,
    CompanyProfileForm,
    DiscountThresholdsForm,
    QuoteForm,
    QuoteLineForm,
    QuoteSendForm,
    product_autocomplete_url,
)
from sales.services import StaleWrite


def _stale_message() -> str:
    return _("Somebody changed this quote since you opened it. The page now shows their change; "
             "your input is kept below: check it and save again.")


def _version(request) -> int | None:
    value = request.POST.get("version", "")
    return int(value) if value.isdigit() else None


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def _quotes():
    return Quote.objects.select_related("account", "contact", "owner", "team", "opportunity", "price_book")


# --- List and create ------------------------------------------------------------------------------


def quote_create(request):
    require_create(request.user, Quote)
    opportunity = None
    source = request.POST if request.method == "POST" else request.GET
    if source.get("opportunity"):
        opportunity = get_editable_or_404(Opportunity.objects.select_related("account", "primary_contact"),
                                          request.user, pk=source.get("opportunity"))
    initial = {"currency": _default_currency()}
    if opportunity is not None:
        initial.update(title=opportunity.name, contact=opportunity.primary_contact_id)
    elif request.GET.get("account"):
        account = get_visible_or_404(Account, request.user, pk=request.GET["account"])
        initial.update(account=account.pk)
    form = QuoteForm(request.POST or None, initial=initial, user=request.user, opportunity=opportunity)
    if request.method == "POST" and form.is_valid():
        try:
            quote = services.quote_create(actor=request.user, opportunity=opportunity, **form.model_fields())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Quote %(number)s was created. Add or check its lines.")
                             % {"number": quote.display_number})
            return redirect(quote)
    return render(request, "sales/quote_form.html", {"form": form, "opportunity": opportunity})


def _default_currency() -> str:
    return settings.DEFAULT_CURRENCY


# --- Detail -------------------------------------------------------------------------------------


def _detail_context(request, quote: Quote, *, line_form=None) -> dict:
    user = request.user
    lines = list(quote.lines.all())
    editable = can_edit(user, quote)
    is_draft = quote.status == QuoteStatus.DRAFT
    approvals = list(quote.approvals.select_related("requested_by", "approver", "decided_by"))
    pending = next((a for a in approvals if a.status == ApprovalStatus.PENDING), None)
    if pending is not None:
        pending.quote = quote
    discount = services.quote_discount(quote, lines)
    limit = services.discount_limit(user)
    versions = list(Quote.objects.visible_to(user).filter(number=quote.number).order_by("version")
                    .only("id", "number", "version", "status", "total", "currency", "deleted_at"))
    order_url = order = deal_to_win = None
    if quote.status == QuoteStatus.ACCEPTED and quote.opportunity_id:
        # The deal this accepted quote can close as won, when it is still open and the user may change it.
        deal = Opportunity.objects.editable_by(user).open().filter(pk=quote.opportunity_id).first()
        deal_to_win = deal
    if quote.status == QuoteStatus.ACCEPTED:
        order = Order.objects.visible_to(user).filter(quote=quote).only("id", "number", "deleted_at").first()
        try:
            order_url = reverse("sales:order_create_from_quote", args=[quote.pk])
        except NoReverseMatch:
            order_url = None
    return {
        "quote": quote, "lines": lines, "can_edit": editable, "is_draft": is_draft,
        "line_form": line_form if line_form is not None else (QuoteLineForm(quote=quote) if editable and is_draft
                                                               else None),
        "approvals": approvals, "pending": pending,
        "can_decide": pending is not None and services.can_decide(user, pending),
        "discount": discount, "limit": limit, "over_limit": limit is not None and discount > limit,
        "approval_required": editable and is_draft and services.approval_required(quote, user, lines),
        "versions": versions if len(versions) > 1 else [],
        "order": order, "order_url": order_url, "today": timezone.localdate(), "deal_to_win": deal_to_win,
        "product_url": product_autocomplete_url(), "decision_form": ApprovalDecisionForm(),
        # The customer's name is printed on the quote; a link only for those who may open the record.
        "account_visible": can_see(user, quote.account),
        "opportunity_visible": quote.opportunity_id is not None and can_see(user, quote.opportunity),
    }


def quote_detail(request, pk: int):
    quote = get_visible_or_404(_quotes(), request.user, pk=pk)
    return render(request, "sales/quote_detail.html", _detail_context(request, quote))


def quote_edit(request, pk: int):
    quote = get_editable_or_404(_quotes(), request.user, pk=pk)
    if quote.status != QuoteStatus.DRAFT:
        messages.error(request, _("Only a draft can be changed. Revise the quote to make a new version."))
        return redirect(quote)
    form = QuoteForm(request.POST or None, instance=quote, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.quote_update(quote=quote, actor=request.user, expected_version=_version(request),
                                  **form.model_fields())
        except StaleWrite as stale:
            messages.error(request, _stale_message())
            form = _rebound(QuoteForm, request, stale.current, instance=get_editable_or_404(
                _quotes(), request.user, pk=pk), user=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Quote %(number)s was saved.") % {"number": quote.display_number})
            return redirect(quote)
    return render(request, "sales/quote_form.html", {"form": form, "quote": quote})


def _rebound(form_class, request, current: Quote, **kwargs):
    """The person's input again, now naming the current version: saving again is a conscious choice."""
    data = request.POST.copy()
    data["version"] = str(current.lock_version)
    form = form_class(data, request.FILES or None, **kwargs)
    form.is_valid()
    return form


@require_POST
def quote_delete(request, pk: int):
    quote = get_editable_or_404(Quote, request.user, pk=pk)
    try:
        services.quote_delete(quote=quote, actor=request.user, expected_version=_version(request))
    except StaleWrite:
        messages.error(request, _stale_message())
        return redirect(quote)
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return redirect(quote)
    messages.success(request, _("Quote %(number)s was deleted.") % {"number": quote.display_number})
    return redirect("sales:quote_list")


# --- Lines ---------------------------------------------------------------------------------------------


@require_POST
def quote_line_add(request, pk: int):
    quote = get_editable_or_404(_quotes(), request.user, pk=pk)
    form = QuoteLineForm(request.POST, quote=quote)
    if form.is_valid():
        try:
            services.quote_line_add(quote=quote, actor=request.user, expected_version=_version(request),
                                    **form.line_fields())
        except StaleWrite as stale:
            messages.error(request, _stale_message())
            quote = get_visible_or_404(_quotes(), request.user, pk=pk)
            form = _rebound(QuoteLineForm, request, stale.current, quote=quote)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Line added."))
            return redirect(reverse("sales:quote_detail", args=[pk]) + "#lines")
    return render(request, "sales/quote_detail.html", _detail_context(request, quote, line_form=form), status=200)


def _line(request, pk: int, line_pk: int) -> tuple[Quote, QuoteLine]:
    quote = get_editable_or_404(_quotes(), request.user, pk=pk)
    line = get_object_or_404(QuoteLine, pk=line_pk, quote=quote)
    line.quote = quote
    return quote, line


def quote_line_edit(request, pk: int, line_pk: int):
    quote, line = _line(request, pk, line_pk)
    form = QuoteLineForm(request.POST or None, instance=line, quote=quote)
    if request.method == "POST" and form.is_valid():
        try:
            services.quote_line_update(line=line, actor=request.user, expected_version=_version(request),
                                       **form.line_fields())
        except StaleWrite as stale:
            messages.error(request, _stale_message())
            quote, line = _line(request, pk, line_pk)
            form = _rebound(QuoteLineForm, request, stale.current, instance=line, quote=quote)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Line saved."))
            return redirect(reverse("sales:quote_detail", args=[pk]) + "#lines")
    return render(request, "sales/quote_line_form.html", {"form": form, "quote": quote, "line": line,
                                                           "product_url": product_autocomplete_url()})


@require_POST
def quote_line_delete(request, pk: int, line_pk: int):
    quote, line = _line(request, pk, line_pk)
    try:
        services.quote_line_remove(line=line, actor=request.user, expected_version=_version(request))
    except StaleWrite:
        messages.error(request, _("Somebody changed this quote since you opened it: the line was not removed. "
                                  "Check the lines below and try again."))
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("Line removed."))
    return redirect(reverse("sales:quote_detail", args=[pk]) + "#lines")


# --- Status changes ----------------------------------------------------------------------------------


def _status_action(request, pk: int, service, success: str):
    quote = get_editable_or_404(Quote, request.user, pk=pk)
    try:
        result = service(quote=quote, actor=request.user, expected_version=_version(request))
    except StaleWrite:
        messages.error(request, _("Somebody changed this quote since you opened it: nothing was done. "
                                  "Check it and try again."))
        return redirect(quote)
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return redirect(quote)
    messages.success(request, success % {"number": result.display_number})
    return redirect(result)


@require_POST
def quote_accept(request, pk: int):
    return _status_action(request, pk, services.quote_accept, _("Quote %(number)s was accepted."))


@require_POST
def quote_reject(request, pk: int):
    return _status_action(request, pk, services.quote_reject, _("Quote %(number)s was marked as rejected."))


@require_POST
def quote_revise(request, pk: int):
    return _status_action(request, pk, services.quote_revise,
                          _("Version %(number)s was created as a draft: change it and send it again."))


@require_POST
def quote_request_approval(request, pk: int):
    quote = get_editable_or_404(Quote, request.user, pk=pk)
    try:
        approval = services.quote_request_approval(quote=quote, actor=request.user,
                                                   expected_version=_version(request))
    except StaleWrite:
        messages.error(request, _("Somebody changed this quote since you opened it: check it and ask again."))
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        whom = approval.approver or _("the administrators")
        messages.success(request, _("Approval requested from %(whom)s.") % {"whom": whom})
    return redirect(quote)


def _decide(request, pk: int, approve: bool):
    quote = get_visible_or_404(Quote, request.user, pk=pk)
    form = ApprovalDecisionForm(request.POST)
    form.is_valid()
    try:
        services.approval_decide(quote=quote, actor=request.user, approve=approve,
                                 comment=form.cleaned_data.get("comment", ""), expected_version=_version(request))
    except PermissionDenied:
        raise
    except StaleWrite:
        messages.error(request, _("The quote changed since you opened it: nothing was decided. Look at the current "
                                  "discount and decide again."))
        return redirect(quote)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("Discount approved: the quote can be sent.") if approve
                         else _("Discount rejected; the rep was told why."))
    return redirect(request.POST.get("next") if request.POST.get("next") == reverse("sales:approval_list")
                    else quote.get_absolute_url())


@require_POST
def quote_approve(request, pk: int):
    return _decide(request, pk, approve=True)


@require_POST
def quote_reject_approval(request, pk: int):
    return _decide(request, pk, approve=False)


def approval_list(request):
    require_read(request.user, Quote)
    approvals = list(services.pending_approvals_for(request.user)
                     .select_related("quote__account", "quote__owner", "requested_by").order_by("requested_at", "id")
                     [:200])
    return render(request, "sales/quote_approvals.html", {"approvals": approvals,
                                                          "decision_form": ApprovalDecisionForm()})


# --- PDF and e-mail ---------------------------------------------------------------------------------


def quote_pdf(request, pk: int):
    quote = get_visible_or_404(_quotes(), request.user, pk=pk)
    pdf = services.quote_pdf(quote)
    response = HttpResponse(pdf, content_type="application/pdf")
    disposition = "inline" if request.GET.get("inline") else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{services.pdf_filename(quote)}"'
    return response


def quote_send(request, pk: int):
    quote = get_editable_or_404(_quotes(), request.user, pk=pk)
    if quote.status != QuoteStatus.DRAFT:
        messages.info(request, _("This quote was already sent.") if quote.status == QuoteStatus.SENT
                      else _("Only a draft can be sent."))
        return redirect(quote)
    if services.approval_required(quote, request.user):
        messages.error(request, _("The discount is above your limit: request approval before sending."))
        return redirect(quote)
    initial = {
        "to": quote.contact.primary_email if quote.contact else quote.account.email,
        "subject": _("Quote %(number)s: %(title)s") % {"number": quote.display_number, "title": quote.title},
        "message": _("Hello%(name)s,\n\nplease find attached our quote %(number)s, valid until %(date)s.\n\n"
                     "Kind regards,\n%(sender)s") % {
            "name": f" {quote.contact.first_name}" if quote.contact and quote.contact.first_name else "",
            "number": quote.display_number, "date": quote.valid_until.isoformat(),
            "sender": request.user.get_full_name() or request.user.email},
        "version": quote.lock_version,
    }
    form = QuoteSendForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.quote_send(quote=quote, actor=request.user, to=data["to"], subject=data["subject"],
                                message=data["message"], expected_version=data.get("version"))
        except services.AlreadySent:
            messages.info(request, _("This quote was already sent."))
            return redirect(quote)
        except StaleWrite:
            messages.error(request, _("Somebody changed this quote since you opened this form: check the quote "
                                      "and send it again. Your message is kept below."))
            data = request.POST.copy()
            data["version"] = str(Quote.objects.values_list("lock_version", flat=True).get(pk=pk))
            form = QuoteSendForm(data)
            form.is_valid()
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            _say_how_the_mail_went(request, quote, data["to"])
            return redirect(quote)
    return render(request, "sales/quote_send.html", {"form": form, "quote": quote})


def _say_how_the_mail_went(request, quote: Quote, to: list[str]) -> None:
    """The quote is sent (and on the timeline) once its e-mail is queued; this says whether the mail
    server has taken it yet. A server that is down only delays it: the outbox retries by itself."""
    mail = outbox.deliver_now(services.quote_mail_key(quote))
    values = {"number": quote.display_number, "to": ", ".join(to)}
    if mail is not None and mail.status == OutboxStatus.SENT:
        messages.success(request, _("Quote %(number)s was sent to %(to)s.") % values)
    elif mail is not None and mail.failed_at is not None:
        messages.warning(request, _("The mail server is not answering. Quote %(number)s is marked as sent and its "
                                    "e-mail to %(to)s is queued: it goes out by itself as soon as the server "
                                    "answers. You do not need to send it again.") % values)
    else:
        messages.success(request, _("Quote %(number)s is being e-mailed to %(to)s.") % values)


# --- Admin pages ---------------------------------------------------------------------------------------


@admin_required
def discount_thresholds(request):
    from crm.roles import Role

    current = dict(DiscountThreshold.objects.values_list("role", "max_discount_pct"))
    defaults = {role: services.default_limit_for_role(role) for role, _label in Role.choices}
    form = DiscountThresholdsForm(request.POST or None, current=current, defaults=defaults)
    if request.method == "POST" and form.is_valid():
        services.discount_thresholds_save(actor=request.user, limits=form.limits())
        messages.success(request, _("Discount thresholds were saved."))
        return redirect("sales:discount_thresholds")
    return render(request, "sales/quote_thresholds.html", {"form": form, "default": services.DEFAULT_THRESHOLD})


@admin_required
def company_profile(request):
    profile = CompanyProfile.current()
    form = CompanyProfileForm(request.POST or None, request.FILES or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        previous_logo = profile.logo.name if profile.logo else ""
        profile = form.save(commit=False)
        services.company_profile_update(actor=request.user, profile=profile,
                                        remove_logo=form.cleaned_data.get("remove_logo", False))
        if previous_logo and previous_logo != (profile.logo.name or ""):
            profile.logo.storage.delete(previous_logo)
        messages.success(request, _("The company profile was saved."))
        return redirect("sales:company_profile")
    last_quote = Quote.objects.filter(deleted_at__isnull=True).order_by("-created_at", "-id").only("id").first()
    return render(request, "sales/quote_company_profile.html", {
        "form": form, "profile": profile, "last_quote": last_quote})


@admin_required
@require_POST
def company_profile_preview(request):
    """The quote PDF with the template as typed (not saved yet), for the last quote or a sample."""
    form = CompanyProfileForm(request.POST, instance=CompanyProfile.current())
    form.is_valid()
    if "quote_template" in form.errors:
        return HttpResponse(" ".join(form.errors["quote_template"]), status=400, content_type="text/plain")
    source = request.POST.get("quote_template", "")
    quote = _quotes().filter(deleted_at__isnull=True).order_by("-created_at", "-id").first()
    if quote is None:
        quote, lines = _sample_quote()
        pdf = services.quote_pdf(quote, source=source, lines=lines)
    else:
        pdf = services.quote_pdf(quote, source=source)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="preview.pdf"'
    return response


def _sample_quote():
    today = timezone.localdate()
    quote = Quote(number=f"Q-{today.year}-0000", title=_("Sample quote"), currency=_default_currency(),
                  discount_pct=Decimal(5), issue_date=today, valid_until=today + datetime.timedelta(days=30),
                  account=Account(name=_("Sample customer Ltd"), address=_("1 Example Street")),
                  terms=CompanyProfile.current().default_quote_terms)
    lines = [QuoteLine(name=_("Consulting"), quantity=Decimal(10), unit="h", unit_price=Decimal(120),
                       tax_rate=Decimal(20)),
             QuoteLine(name=_("Licence"), quantity=Decimal(1), unit="pcs", unit_price=Decimal(900),
                       discount_pct=Decimal(10), tax_rate=Decimal(20))]
    totals = compute_totals(lines, currency=quote.currency, discount_pct=quote.discount_pct)
    for line, amounts in zip(lines, totals.lines, strict=True):
        line.line_total = amounts.total
    quote.subtotal, quote.discount_total = totals.subtotal, totals.discount_total
    quote.tax_total, quote.total = totals.tax_total, totals.total
    return quote, lines


def company_logo(request):
    """The logo for the profile page (signed-in users; it is printed on every quote anyway)."""
    profile = CompanyProfile.current()
    if not profile.logo:
        raise Http404
    try:
        handle = profile.logo.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(handle, content_type="image/png" if profile.logo.name.endswith(".png") else "image/jpeg")


def approval_count(user) -> int:
    """For the navigation: how many discount requests wait for this person."""
    return services.pending_approvals_for(user).count()

