"""The product catalogue (products, documents), price books, exchange rates, the product picker and
an opportunity's product lines. Everyone signed in reads the catalogue; admins and sales managers
change it (CATALOGUE_DATA); lines follow the opportunity's own rights (SALES_DATA)."""

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm import panels
from crm.downloads import private_download
from crm.forms import add_service_errors
from crm.list_tools import to_int
from crm.pagination import paginate
from crm.visibility import can_create, can_edit, get_editable_or_404, get_visible_or_404, require_admin, require_create
from sales import product_services as services
from sales.models import (
    CurrencyRate,
    Opportunity,
    OpportunityLine,
    PriceBook,
    PriceBookEntry,
    Product,
    ProductDocument,
)
from sales.product_forms import (
    CurrencyRateForm,
    DocumentUploadForm,
    EntryPriceForm,
    OpportunityLineAddForm,
    OpportunityLineEditForm,
    PriceBookEntryForm,
    PriceBookForm,
    ProductForm,
)
from sales.services import StaleWrite

AUTOCOMPLETE_LIMIT = 20
ENTRIES_PER_PAGE = 50


# --- Products ---------------------------------------------------------------------------


def _families():
    return (Product.objects.filter(deleted_at__isnull=True).exclude(family="").order_by("family")
            .values_list("family", flat=True).distinct()[:200])


def product_create(request):
    require_create(request.user, Product)
    form = ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            product = services.product_create(actor=request.user, **form.model_fields())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Product %(name)s was created.") % {"name": product})
            return redirect(product)
    return render(request, "sales/product_form.html", {"form": form, "families": _families()})


def _product_for_change(request, pk: int) -> Product:
    product = get_visible_or_404(Product, request.user, pk=pk)
    require_create(request.user, Product)
    return product


def product_edit(request, pk: int):
    product = _product_for_change(request, pk)
    form = ProductForm(request.POST or None, instance=product)
    if request.method == "POST" and form.is_valid():
        try:
            services.product_update(product=product, actor=request.user, **form.model_fields())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Product %(name)s was saved.") % {"name": product})
            return redirect(product)
    return render(request, "sales/product_form.html", {"form": form, "product": product, "families": _families()})


def _detail_context(request, product: Product, upload_form=None) -> dict:
    entries = (PriceBookEntry.objects.filter(product=product, price_book__active=True)
               .select_related("price_book").order_by("price_book__name"))
    can_manage = can_create(request.user, Product)
    return {
        "product": product,
        "entries": list(entries),
        "documents": list(product.documents.select_related("uploaded_by").order_by("title", "id")),
        "can_manage": can_manage,
        "upload_form": upload_form or (DocumentUploadForm() if can_manage else None),
        "is_used": services.product_is_used(product) if can_manage else None,
        "panels": panels.render(request, product),  # what other modules add (marketing: announce a new product)
    }


def product_detail(request, pk: int):
    product = get_visible_or_404(Product, request.user, pk=pk)
    return render(request, "sales/product_detail.html", _detail_context(request, product))


@require_POST
def product_set_active(request, pk: int):
    product = _product_for_change(request, pk)
    active = request.POST.get("active") == "1"
    services.product_set_active(product=product, actor=request.user, active=active)
    messages.success(request, (_("%(name)s is active again: reps can add it to deals.") if active else
                               _("%(name)s was deactivated: it stays on existing lines but cannot be added to new "
                                 "ones.")) % {"name": product})
    return redirect(product)


@require_POST
def product_delete(request, pk: int):
    product = _product_for_change(request, pk)
    try:
        services.product_delete(product=product, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(product)
    messages.success(request, _("Product %(name)s was deleted.") % {"name": product})
    return redirect("sales:product_list")


@require_POST
def product_document_upload(request, pk: int):
    product = _product_for_change(request, pk)
    form = DocumentUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            document = services.product_document_add(product=product, actor=request.user,
                                                      upload=form.cleaned_data["file"],
                                                      title=form.cleaned_data["title"])
        except ValidationError as error:
            form.add_error("file", error)
        else:
            messages.success(request, _("“%(title)s” was added to the product.") % {"title": document.title})
            return redirect(product)
    messages.error(request, _("The document was not uploaded: see the reason under the upload form."))
    return render(request, "sales/product_detail.html", _detail_context(request, product, form))


def _document(request, pk: int, document_pk: int) -> ProductDocument:
    product = get_visible_or_404(Product, request.user, pk=pk)
    return get_object_or_404(ProductDocument.objects.select_related("product"), pk=document_pk, product=product)


def product_document_download(request, pk: int, document_pk: int):
    """Signed-in users only (LoginRequiredMiddleware); always a download, never rendered inline."""
    document = _document(request, pk, document_pk)
    return private_download(document.file, filename=services.document_download_name(document),
                            content_type=document.content_type)


@require_POST
def product_document_delete(request, pk: int, document_pk: int):
    _product_for_change(request, pk)
    document = _document(request, pk, document_pk)
    services.product_document_delete(document=document, actor=request.user)
    messages.success(request, _("“%(title)s” was removed.") % {"title": document.title})
    return redirect(document.product)


def product_autocomplete(request):
    """The product picker (contract: q, optional price_book): active products only; the price is the
    price book's when the product is in it, else the product's default price."""
    term = request.GET.get("q", "").strip()
    products = Product.objects.visible_to(request.user).active()
    if term:
        products = products.filter(Q(sku__istartswith=term) | Q(name__icontains=term))
    price_book = None
    if to_int(request.GET.get("price_book")):
        price_book = PriceBook.objects.visible_to(request.user).filter(pk=to_int(request.GET["price_book"])).first()
    rows = services.with_price(products, price_book).order_by("name", "id")[:AUTOCOMPLETE_LIMIT]
    results = []
    for product in rows:
        book_price = getattr(product, "book_price", None)
        in_book = book_price is not None
        results.append({
            "id": product.pk, "text": f"{product.name} ({product.sku})", "name": product.name, "unit": product.unit,
            "unit_price": str(book_price if in_book else product.default_price),
            "tax_rate": str(product.tax_rate), "currency": price_book.currency if in_book else product.currency,
        })
    return JsonResponse({"results": results})


# --- Price books ------------------------------------------------------------------------


def price_book_list(request):
    price_books = (PriceBook.objects.visible_to(request.user).annotate(entry_count=Count("entries"))
                   .order_by("-active", "name"))
    return render(request, "sales/price_book_list.html", {
        "price_books": price_books, "can_manage": can_create(request.user, PriceBook)})


def price_book_create(request):
    require_create(request.user, PriceBook)
    form = PriceBookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            price_book = services.price_book_create(actor=request.user, **form.model_fields())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Price book %(name)s was created: add its products below.")
                             % {"name": price_book.name})
            return redirect("sales:price_book_detail", pk=price_book.pk)
    return render(request, "sales/price_book_form.html", {"form": form})


def _price_book_for_change(request, pk: int) -> PriceBook:
    price_book = get_visible_or_404(PriceBook, request.user, pk=pk)
    require_create(request.user, PriceBook)
    return price_book


def price_book_edit(request, pk: int):
    price_book = _price_book_for_change(request, pk)
    form = PriceBookForm(request.POST or None, instance=price_book)
    if request.method == "POST" and form.is_valid():
        try:
            services.price_book_update(price_book=price_book, actor=request.user, **form.model_fields())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Price book %(name)s was saved.") % {"name": price_book.name})
            return redirect("sales:price_book_detail", pk=price_book.pk)
    return render(request, "sales/price_book_form.html", {"form": form, "price_book": price_book})


def _price_book_context(request, price_book: PriceBook, entry_form=None) -> dict:
    entries = PriceBookEntry.objects.filter(price_book=price_book).select_related("product")
    term = request.GET.get("q", "").strip()
    if term:
        entries = entries.filter(Q(product__sku__istartswith=term) | Q(product__name__icontains=term))
    can_manage = can_create(request.user, PriceBook)
    return {
        "price_book": price_book,
        "page": paginate(entries.order_by("product__name", "id"), request.GET.get("page"), per_page=ENTRIES_PER_PAGE),
        "can_manage": can_manage,
        "entry_form": entry_form or (PriceBookEntryForm(user=request.user) if can_manage else None),
        "query": term,
    }


def price_book_detail(request, pk: int):
    price_book = get_visible_or_404(PriceBook, request.user, pk=pk)
    return render(request, "sales/price_book_detail.html", _price_book_context(request, price_book))


@require_POST
def price_book_delete(request, pk: int):
    price_book = _price_book_for_change(request, pk)
    services.price_book_delete(price_book=price_book, actor=request.user)
    messages.success(request, _("Price book %(name)s was deleted.") % {"name": price_book.name})
    return redirect("sales:price_book_list")


@require_POST
def price_book_entry_add(request, pk: int):
    price_book = _price_book_for_change(request, pk)
    form = PriceBookEntryForm(request.POST, user=request.user)
    if form.is_valid():
        product = form.cleaned_data["product"]
        price = form.cleaned_data["unit_price"]
        services.price_book_entry_set(price_book=price_book, product=product, actor=request.user,
                                      unit_price=product.default_price if price is None else price)
        messages.success(request, _("%(product)s is in the price book.") % {"product": product})
        return redirect("sales:price_book_detail", pk=price_book.pk)
    return render(request, "sales/price_book_detail.html", _price_book_context(request, price_book, form))


def _entry(request, pk: int, entry_pk: int) -> PriceBookEntry:
    price_book = _price_book_for_change(request, pk)
    return get_object_or_404(PriceBookEntry.objects.select_related("product", "price_book"), pk=entry_pk,
                             price_book=price_book)


@require_POST
def price_book_entry_edit(request, pk: int, entry_pk: int):
    entry = _entry(request, pk, entry_pk)
    form = EntryPriceForm(request.POST)
    if form.is_valid():
        services.price_book_entry_set(price_book=entry.price_book, product=entry.product, actor=request.user,
                                      unit_price=form.cleaned_data["unit_price"])
        messages.success(request, _("The price of %(product)s was changed.") % {"product": entry.product})
    else:
        messages.error(request, _("The price of %(product)s was not changed: %(reason)s")
                       % {"product": entry.product, "reason": " ".join(form.errors.get("unit_price", []))})
    return redirect(reverse("sales:price_book_detail", args=[pk]) + _back_query(request))


@require_POST
def price_book_entry_remove(request, pk: int, entry_pk: int):
    entry = _entry(request, pk, entry_pk)
    services.price_book_entry_remove(entry=entry, actor=request.user)
    messages.success(request, _("%(product)s was removed from the price book.") % {"product": entry.product})
    return redirect(reverse("sales:price_book_detail", args=[pk]) + _back_query(request))


def _back_query(request) -> str:
    page = to_int(request.POST.get("page"))
    return f"?page={page}" if page and page > 1 else ""


# --- Exchange rates (admins) --------------------------------------------------------------


def currency_rate_list(request):
    require_admin(request.user)
    form = CurrencyRateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rate = services.currency_rate_set(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Saved: %(rate)s.") % {"rate": rate})
            return redirect("sales:currency_rate_list")
    return render(request, "sales/currency_rates.html", {"rates": CurrencyRate.objects.order_by("currency"),
                                                         "form": form, "default_currency": settings.DEFAULT_CURRENCY})


@require_POST
def currency_rate_delete(request, pk: int):
    require_admin(request.user)
    rate = get_object_or_404(CurrencyRate, pk=pk)
    services.currency_rate_delete(rate=rate, actor=request.user)
    messages.success(request, _("The exchange rate of %(currency)s was removed.") % {"currency": rate.currency})
    return redirect("sales:currency_rate_list")


# --- Opportunity lines -------------------------------------------------------------------
LINES_FRAGMENT = "sales/_opportunity_lines.html#lines"


def _opportunity_page(opportunity: Opportunity) -> str:
    try:
        return opportunity.get_absolute_url()
    except NoReverseMatch:
        return reverse("sales:opportunity_lines", args=[opportunity.pk])


def _lines_response(request, opportunity: Opportunity, *, notice: str = "", level: str = "success",
                    status: int = 200, **context):
    """htmx: the lines fragment (with a toast); a plain form post: back to the deal's page."""
    if not request.htmx:
        if notice:
            messages.add_message(request, messages.ERROR if level == "danger" else messages.SUCCESS, notice)
        return redirect(_opportunity_page(opportunity))
    context.update(opportunity=opportunity, can_edit=can_edit(request.user, opportunity), notice=notice,
                   notice_level=level)
    return render(request, LINES_FRAGMENT, context, status=status)


def opportunity_lines(request, pk: int):
    """The lines card on its own (the opportunity page includes the same template)."""
    opportunity = get_visible_or_404(Opportunity, request.user, pk=pk)
    context = {"opportunity": opportunity, "can_edit": can_edit(request.user, opportunity)}
    if request.htmx:
        return render(request, LINES_FRAGMENT, context)
    return render(request, "sales/opportunity_lines_page.html", context)


@require_POST
def opportunity_line_add(request, pk: int):
    opportunity = get_editable_or_404(Opportunity, request.user, pk=pk)
    form = OpportunityLineAddForm(request.POST, user=request.user, opportunity=opportunity, prefix="line")
    if form.is_valid():
        try:
            line = services.opportunity_line_add(opportunity=opportunity, actor=request.user,
                                                 **form.service_fields())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _lines_response(request, opportunity, notice=_("%(product)s was added.") % {"product": line.name})
    if not request.htmx:
        messages.error(request, _("The product was not added: %(errors)s")
                       % {"errors": " ".join(str(e) for errors in form.errors.values() for e in errors)})
        return redirect(_opportunity_page(opportunity))
    return _lines_response(request, opportunity, line_form=form, status=200)


def _line(request, pk: int, line_pk: int) -> tuple[Opportunity, OpportunityLine]:
    opportunity = get_editable_or_404(Opportunity, request.user, pk=pk)
    line = get_object_or_404(OpportunityLine, pk=line_pk, opportunity=opportunity)
    return opportunity, line


def opportunity_line_edit(request, pk: int, line_pk: int):
    opportunity, line = _line(request, pk, line_pk)
    form = OpportunityLineEditForm(request.POST or None, instance=line, prefix="edit")
    if request.method == "POST" and form.is_valid():
        try:
            services.opportunity_line_update(line=line, actor=request.user,
                                             **{name: form.cleaned_data[name] for name in form.Meta.fields})
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _lines_response(request, opportunity, notice=_("%(item)s was saved.") % {"item": line.name})
    if not request.htmx:
        if request.method == "POST":
            messages.error(request, _("The line was not saved: %(errors)s")
                           % {"errors": " ".join(str(e) for errors in form.errors.values() for e in errors)})
        return redirect(_opportunity_page(opportunity))
    return _lines_response(request, opportunity, editing=line.pk, edit_form=form)


@require_POST
def opportunity_line_delete(request, pk: int, line_pk: int):
    opportunity, line = _line(request, pk, line_pk)
    services.opportunity_line_delete(line=line, actor=request.user)
    return _lines_response(request, opportunity, notice=_("%(item)s was removed.") % {"item": line.name})


def _decimal_or_none(raw):
    try:
        value = Decimal(raw) if raw not in (None, "") else None
        return value if value is None or value.is_finite() else None  # NaN, Infinity: as if absent
    except InvalidOperation:
        return None


@require_POST
def opportunity_lines_use_total(request, pk: int):
    opportunity = get_editable_or_404(Opportunity, request.user, pk=pk)
    try:
        services.opportunity_use_lines_total(
            opportunity=opportunity, actor=request.user, expected_version=to_int(request.POST.get("version")),
            seen_total=_decimal_or_none(request.POST.get("total")))
    except StaleWrite as stale:
        opportunity = stale.current
        return _lines_response(request, opportunity, level="danger", notice=_(
            "Someone else changed this deal since you opened it; nothing was changed. The lines below are "
            "current: check them and try again."))
    except ValidationError as error:
        opportunity.refresh_from_db()
        return _lines_response(request, opportunity, level="danger", notice=" ".join(error.messages))
    messages.success(request, _("The deal amount is now %(amount)s %(currency)s.")
                     % {"amount": opportunity.amount, "currency": opportunity.currency})
    if request.htmx:
        # The whole page reloads: its amount and the version its other forms carry changed too.
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return redirect(_opportunity_page(opportunity))

