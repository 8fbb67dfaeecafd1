"""Writes on the product catalogue (products, documents, price books, exchange rates) and on an
opportunity's product lines. The views authorize (crm.visibility / CATALOGUE_DATA) before calling.
Line totals are never added up here: sales.money.compute_totals does it."""

import zipfile
from decimal import Decimal
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import User
from sales.models import (
    CurrencyRate,
    InvoiceLine,
    Opportunity,
    OpportunityLine,
    OrderLine,
    PriceBook,
    PriceBookEntry,
    Product,
    ProductDocument,
    QuoteLine,
)
from sales.money import Totals, compute_totals
from sales.services import opportunity_update

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
SNIFF_BYTES = 8

# Extension → (what the content must be, the content type we serve it with). The browser's
# declared content type is ignored: the bytes decide.
DOCUMENT_KINDS = {
    ".pdf": ("pdf", "application/pdf"),
    ".png": ("png", "image/png"),
    ".jpg": ("jpeg", "image/jpeg"),
    ".jpeg": ("jpeg", "image/jpeg"),
    ".docx": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ".xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}
ALLOWED_EXTENSIONS = ", ".join(ext.lstrip(".").upper() for ext in DOCUMENT_KINDS if ext != ".jpeg")


# --- Products -------------------------------------------------------------------------


@transaction.atomic
def product_create(*, actor: User, **fields) -> Product:
    product = Product(**fields)
    product.full_clean()
    product.save()
    return product


@transaction.atomic
def product_update(*, product: Product, actor: User, **fields) -> Product:
    for name, value in fields.items():
        setattr(product, name, value)
    product.full_clean()
    product.save()
    return product


@transaction.atomic
def product_set_active(*, product: Product, actor: User, active: bool) -> Product:
    product.active = active
    product.save(update_fields=["active", "updated_at"])
    return product


def product_is_used(product: Product) -> bool:
    """On any opportunity, quote, order or invoice line: then it may only be deactivated."""
    return any(model.objects.filter(product=product).exists()
               for model in (OpportunityLine, QuoteLine, OrderLine, InvoiceLine))


@transaction.atomic
def product_delete(*, product: Product, actor: User) -> None:
    """Soft delete of an unused product; a product on lines is refused (deactivate it instead)."""
    if product_is_used(product):
        raise ValidationError(_("%(product)s is used on deal, quote, order or invoice lines: deactivate it instead, "
                                "so those lines keep their product.") % {"product": product})
    product.deleted_at = timezone.now()
    product.save(update_fields=["deleted_at", "updated_at"])


# --- Documents --------------------------------------------------------------------------


def _sniff(upload) -> str | None:
    """What the file really is, from its bytes: pdf, png, jpeg, docx, xlsx or None."""
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"PK\x03\x04"):
        # Office Open XML is a ZIP with a content-types part and the application's folder. Only
        # the directory is read, nothing is extracted.
        try:
            with zipfile.ZipFile(upload) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
        finally:
            upload.seek(0)
        if "[Content_Types].xml" not in names:
            return None
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
    return None


def check_document(upload) -> str:
    """The content type to serve the upload with; ValidationError with a clear reason otherwise."""
    if upload.size > MAX_DOCUMENT_BYTES:
        raise ValidationError(_("The file is %(size)s MB; documents may be up to 10 MB.")
                              % {"size": f"{upload.size / 1024 / 1024:.1f}"})
    if upload.size == 0:
        raise ValidationError(_("The file is empty."))
    extension = PurePath(upload.name or "").suffix.lower()
    if extension not in DOCUMENT_KINDS:
        raise ValidationError(_("“%(name)s” is not a document we keep: upload %(allowed)s.")
                              % {"name": upload.name, "allowed": ALLOWED_EXTENSIONS})
    expected, content_type = DOCUMENT_KINDS[extension]
    if _sniff(upload) != expected:
        raise ValidationError(_("“%(name)s” is not really a %(kind)s file (its content says otherwise); it was not "
                                "uploaded.") % {"name": upload.name, "kind": extension.lstrip(".").upper()})
    return content_type


@transaction.atomic
def product_document_add(*, product: Product, actor: User, upload, title: str = "") -> ProductDocument:
    content_type = check_document(upload)
    name = PurePath(upload.name).name
    document = ProductDocument(product=product, title=(title.strip() or PurePath(name).stem)[:200],
                               content_type=content_type, size=upload.size, uploaded_by=actor)
    document.file.save(name, upload, save=False)
    document.save()
    return document


@transaction.atomic
def product_document_delete(*, document: ProductDocument, actor: User) -> None:
    stored = document.file.name
    storage = document.file.storage
    document.delete()
    transaction.on_commit(lambda: storage.delete(stored))


def document_download_name(document: ProductDocument) -> str:
    """The name the person uploaded (the stored name carries a time stamp prefix)."""
    stored = PurePath(document.file.name).name
    stamp, _dash, original = stored.partition("-")
    return original if stamp.isdigit() and original else stored


# --- Price books ------------------------------------------------------------------------


@transaction.atomic
def price_book_create(*, actor: User, **fields) -> PriceBook:
    price_book = PriceBook(**fields)
    price_book.full_clean()
    price_book.save()
    return price_book


@transaction.atomic
def price_book_update(*, price_book: PriceBook, actor: User, **fields) -> PriceBook:
    for name, value in fields.items():
        setattr(price_book, name, value)
    price_book.full_clean()
    price_book.save()
    return price_book


@transaction.atomic
def price_book_delete(*, price_book: PriceBook, actor: User) -> None:
    """Quotes priced from it keep their prices (the link is cleared)."""
    price_book.delete()


@transaction.atomic
def price_book_entry_set(*, price_book: PriceBook, product: Product, unit_price: Decimal,
                         actor: User) -> PriceBookEntry:
    """Adds the product to the price book, or changes its price there."""
    entry = PriceBookEntry.objects.filter(price_book=price_book, product=product).first()
    entry = entry or PriceBookEntry(price_book=price_book, product=product)
    entry.unit_price = unit_price
    entry.full_clean(validate_unique=False, validate_constraints=False)
    entry.save()
    return entry


@transaction.atomic
def price_book_entry_remove(*, entry: PriceBookEntry, actor: User) -> None:
    entry.delete()


def with_price(products, price_book: PriceBook | None):
    """Annotates `book_price`: the product's price in the price book (None when not in it)."""
    if price_book is None:
        return products
    entry = PriceBookEntry.objects.filter(price_book=price_book, product=OuterRef("pk")).values("unit_price")[:1]
    return products.annotate(book_price=Subquery(entry))


def price_for(product: Product, price_book: PriceBook | None) -> tuple[Decimal, str]:
    """(unit price, currency): the price book's when the product is in it, else the default price."""
    if price_book is not None:
        price = (PriceBookEntry.objects.filter(price_book=price_book, product=product)
                 .values_list("unit_price", flat=True).first())
        if price is not None:
            return price, price_book.currency
    return product.default_price, product.currency


def document_price(product: Product, price_book: PriceBook | None, currency: str) -> Decimal:
    """The product's unit price for a deal or quote in `currency`. A price book belongs to one currency:
    a book in another currency, a product missing from the chosen book, or (without a book) a product
    priced in another currency is refused with a message, never taken at face value."""
    currency = (currency or "").upper()
    if price_book is not None:
        if price_book.currency.upper() != currency:
            raise ValidationError({"price_book": _(
                "The price book %(book)s is in %(book_currency)s, this document is in %(currency)s: choose a price "
                "book in %(currency)s.") % {"book": price_book.name, "book_currency": price_book.currency,
                                            "currency": currency}})
        price = (PriceBookEntry.objects.filter(price_book=price_book, product=product)
                 .values_list("unit_price", flat=True).first())
        if price is None:
            raise ValidationError({"product": _(
                "%(product)s is not in the price book %(book)s: add it to the price book or choose another "
                "one.") % {"product": product.name, "book": price_book.name}})
        return price
    if product.currency.upper() != currency:
        raise ValidationError({"product": _(
            "%(product)s is priced in %(product_currency)s, this document is in %(currency)s: choose a price book "
            "in %(currency)s that lists it.") % {"product": product.name, "product_currency": product.currency,
                                                 "currency": currency}})
    return product.default_price


# --- Exchange rates ---------------------------------------------------------------------


@transaction.atomic
def currency_rate_set(*, currency: str, rate: Decimal, actor: User) -> CurrencyRate:
    row = CurrencyRate.objects.filter(currency=currency.upper()).first() or CurrencyRate(currency=currency.upper())
    row.rate = rate
    row.full_clean(validate_unique=False)
    row.save()
    return row


@transaction.atomic
def currency_rate_delete(*, rate: CurrencyRate, actor: User) -> None:
    rate.delete()


# --- Opportunity lines -------------------------------------------------------------------


def opportunity_lines(opportunity: Opportunity) -> list[OpportunityLine]:
    return list(OpportunityLine.objects.filter(opportunity=opportunity).select_related("product")
                .order_by("position", "id"))


def opportunity_lines_totals(opportunity: Opportunity, lines=None) -> Totals:
    lines = opportunity_lines(opportunity) if lines is None else lines
    return compute_totals(lines, currency=opportunity.currency)


@transaction.atomic
def opportunity_line_add(*, opportunity: Opportunity, actor: User, product: Product,
                         price_book: PriceBook | None = None, quantity: Decimal = Decimal(1),
                         unit_price: Decimal | None = None, discount_pct: Decimal = Decimal(0),
                         tax_rate: Decimal | None = None, description: str = "") -> OpportunityLine:
    """A product on the deal. Price and tax default to the price book's / the product's; a product not priced
    in the deal's currency (through the book, or by default) is refused."""
    book_price = document_price(product, price_book, opportunity.currency)
    if unit_price is None:
        unit_price = book_price
    last = OpportunityLine.objects.filter(opportunity=opportunity).aggregate(last=Max("position"))["last"]
    line = OpportunityLine(
        opportunity=opportunity, product=product, name=product.name[:200], description=description,
        quantity=quantity, unit=product.unit, unit_price=unit_price, discount_pct=discount_pct or Decimal(0),
        tax_rate=product.tax_rate if tax_rate is None else tax_rate, position=(last or 0) + 1)
    line.full_clean()
    line.save()
    return line


@transaction.atomic
def opportunity_line_update(*, line: OpportunityLine, actor: User, **fields) -> OpportunityLine:
    for name, value in fields.items():
        setattr(line, name, value)
    line.full_clean()
    line.save()
    return line


@transaction.atomic
def opportunity_line_delete(*, line: OpportunityLine, actor: User) -> None:
    line.delete()


@transaction.atomic
def opportunity_use_lines_total(*, opportunity: Opportunity, actor: User, expected_version: int | None,
                                seen_total: Decimal | None = None) -> Opportunity:
    """Sets the deal amount to its lines' net total (after discounts, before tax: pipelines, forecasts and
    targets compare amounts without tax). Raises StaleWrite when the deal changed since the
    person loaded it, ValidationError when the lines changed (the total they saw is no longer it)."""
    total = opportunity_lines_totals(opportunity).net  # deal amounts are net of tax
    if seen_total is not None and seen_total != total:
        raise ValidationError(_("The lines changed since you loaded them: the total is now %(total)s %(currency)s. "
                                "Check it and try again.") % {"total": total, "currency": opportunity.currency})
    return opportunity_update(opportunity=opportunity, actor=actor, amount=total, expected_version=expected_version)
