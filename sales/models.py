"""Sales: pipelines and opportunities, products and price books, quotes, orders, invoices and
payments, targets. Money is Decimal with an ISO 4217 currency code everywhere; document
totals are computed in one place, sales/money.py."""

import datetime
from decimal import Decimal
from typing import Self

import pghistory
from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.choices import LeadSource
from crm.formatting import minor_unit
from crm.models import OwnedModel, OwnedQuerySet, User
from crm.roles import Role
from crm.translated import in_language
from crm.urlcache import pk_url
from crm.visibility import CATALOGUE_DATA, LEAD_DATA, SALES_DATA

MONEY = {"max_digits": 16, "decimal_places": 2}
PERCENT = {"max_digits": 5, "decimal_places": 2,
           "validators": [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]}
QUANTITY = {"max_digits": 12, "decimal_places": 3, "validators": [MinValueValidator(Decimal("0.001"))]}


def two_decimal_currency(value: str) -> None:
    """Money columns keep two decimals: a currency with three (KWD, BHD, OMR …) is refused everywhere
    (deals, products, price books, quotes, orders, invoices) rather than rounded in some places."""
    if minor_unit(value) > 2:
        raise ValidationError(_("Amounts in %(currency)s have three decimals, which the CRM does not keep yet: "
                                "use another currency.") % {"currency": value.upper()}, code="three_decimals")


def currency_field(**kwargs):
    return models.CharField(_("currency"), max_length=3, default=settings.DEFAULT_CURRENCY,
                            validators=[two_decimal_currency], **kwargs)


# --- Pipelines ------------------------------------------------------------------


class StageKind(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class Pipeline(models.Model):
    """A sales process (new business, renewals …) with its ordered stages; admins edit them."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_default = models.BooleanField(_("default pipeline"), default=False)
    active = models.BooleanField(_("active"), default=True)
    translations = models.JSONField(_("name in other languages"), default=dict, blank=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        constraints = [models.UniqueConstraint(fields=["is_default"], condition=models.Q(is_default=True),
                                               name="pipeline_one_default")]

    def __str__(self):
        return in_language(self.name, self.translations)

    def get_absolute_url(self):
        return pk_url("sales:board", self.pk)


class Stage(models.Model):
    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    probability = models.PositiveSmallIntegerField(_("default probability, %"), default=10,
                                                   validators=[MaxValueValidator(100)])
    kind = models.CharField(_("kind"), max_length=10, choices=StageKind.choices, default=StageKind.OPEN)
    active = models.BooleanField(_("active"), default=True)
    translations = models.JSONField(_("name in other languages"), default=dict, blank=True)

    class Meta:
        ordering = ["pipeline", "position", "id"]
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        constraints = [models.UniqueConstraint(fields=["pipeline", "name"], name="stage_unique_name")]

    def __str__(self):
        return in_language(self.name, self.translations)

    @property
    def is_closed(self) -> bool:
        return self.kind != StageKind.OPEN


class CurrencyRate(models.Model):
    """How much one unit of a currency is worth in DEFAULT_CURRENCY, for sums across deals
    (board columns, forecast). Admins keep it current; documents keep their own currency."""

    currency = models.CharField(_("currency"), max_length=3, unique=True)
    rate = models.DecimalField(_("value in the default currency"), max_digits=18, decimal_places=8,
                               validators=[MinValueValidator(Decimal("0.00000001"))])
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["currency"]
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")

    def __str__(self):
        return f"1 {self.currency} = {self.rate} {settings.DEFAULT_CURRENCY}"


# --- Opportunities ---------------------------------------------------------------


class ForecastCategory(models.TextChoices):
    PIPELINE = "pipeline", _("Pipeline")
    BEST_CASE = "best_case", _("Best case")
    COMMIT = "commit", _("Commit")
    CLOSED = "closed", _("Closed (won)")
    OMITTED = "omitted", _("Omitted")


# The categories of a deal still open: a won deal is "closed", a lost one "omitted", set by the stage.
OPEN_FORECAST_CATEGORIES = (ForecastCategory.PIPELINE, ForecastCategory.BEST_CASE, ForecastCategory.COMMIT,
                            ForecastCategory.OMITTED)


class LostReason(models.TextChoices):
    PRICE = "price", _("Price")
    COMPETITOR = "competitor", _("Chose a competitor")
    NO_BUDGET = "no_budget", _("No budget")
    NO_DECISION = "no_decision", _("No decision / stalled")
    PRODUCT_FIT = "product_fit", _("Product does not fit")
    TIMING = "timing", _("Timing")
    OTHER = "other", _("Other")


LIVE = models.Q(deleted_at__isnull=True)


class OpportunityQuerySet(OwnedQuerySet):
    def open(self):
        return self.filter(stage__kind=StageKind.OPEN)

    def won(self):
        return self.filter(stage__kind=StageKind.WON)

    def lost(self):
        return self.filter(stage__kind=StageKind.LOST)


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    # stage_changed_at moves with every stage change, which the history already shows as "Stage".
    exclude=["updated_at", "lock_version", "amount_base", "stage_changed_at"],
    model_name="OpportunityEvent",
)
class Opportunity(OwnedModel):
    visibility_policy = SALES_DATA

    name = models.CharField(_("name"), max_length=200)
    account = models.ForeignKey("accounts.Account", verbose_name=_("account"), on_delete=models.PROTECT,
                                related_name="opportunities")
    primary_contact = models.ForeignKey("contacts.Contact", verbose_name=_("primary contact"), null=True,
                                        blank=True, on_delete=models.SET_NULL, related_name="+")
    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT,
                                 related_name="opportunities")
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="opportunities")
    amount = models.DecimalField(_("amount"), default=Decimal(0), validators=[MinValueValidator(Decimal(0))],
                                 **MONEY)
    currency = currency_field()
    # The amount in DEFAULT_CURRENCY (CurrencyRate at the last save), for sums across currencies.
    amount_base = models.DecimalField(default=Decimal(0), editable=False, **MONEY)
    probability = models.PositiveSmallIntegerField(_("probability, %"), validators=[MaxValueValidator(100)])
    expected_close_date = models.DateField(_("expected close date"))
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    lead_source = models.CharField(_("lead source"), max_length=20, choices=LeadSource.choices, blank=True)
    competitors = models.CharField(_("competitors"), max_length=300, blank=True)
    forecast_category = models.CharField(_("forecast category"), max_length=20, choices=ForecastCategory.choices,
                                         default=ForecastCategory.PIPELINE)
    lost_reason = models.CharField(_("lost reason"), max_length=20, choices=LostReason.choices, blank=True)
    lost_note = models.CharField(_("lost reason, details"), max_length=300, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True, editable=False)
    stage_changed_at = models.DateTimeField(_("in this stage since"), default=timezone.now, editable=False)
    description = models.TextField(_("description"), blank=True)
    custom = models.JSONField(_("additional fields"), default=dict, blank=True)
    # Optimistic locking: every write says which version it read; a stale write is refused.
    lock_version = models.PositiveIntegerField(default=1, editable=False)

    objects = OpportunityQuerySet.as_manager()

    class Meta:
        ordering = ["expected_close_date", "id"]
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        indexes = [
            # Board columns: one stage's cards in close-date order.
            models.Index(fields=["stage", "expected_close_date", "id"], name="opp_stage_close_idx", condition=LIVE),
            models.Index(fields=["owner", "expected_close_date"], name="opp_owner_close_idx", condition=LIVE),
            models.Index(fields=["team", "expected_close_date"], name="opp_team_close_idx", condition=LIVE),
            models.Index(fields=["expected_close_date", "id"], name="opp_close_id_idx", condition=LIVE),
            models.Index(fields=["name", "id"], name="opp_name_id_idx", condition=LIVE),
            models.Index(fields=["-updated_at", "-id"], name="opp_updated_idx", condition=LIVE),
            models.Index(fields=["-amount", "-id"], name="opp_amount_idx", condition=LIVE),
            models.Index(fields=["account", "-expected_close_date"], name="opp_account_idx"),
            # Won and lost columns: the deals closed lately, newest first.
            models.Index(fields=["stage", "-closed_at"], name="opp_stage_closed_idx",
                         condition=models.Q(deleted_at__isnull=True, closed_at__isnull=False)),
            # A team's deals closed in a period (My day's month against target, the team's won figures):
            # at 500,000 deals a manager's tile read the team's 100,000 deals (115-215 ms → 6 ms).
            models.Index(fields=["team", "closed_at"], name="opp_team_closed_idx",
                         condition=models.Q(deleted_at__isnull=True, closed_at__isnull=False)),
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="opp_name_up_trgm"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return pk_url("sales:opportunity_detail", self.pk)

    @property
    def weighted_amount(self) -> Decimal:
        from sales.money import round_money

        return round_money(self.amount * self.probability / 100, self.currency)


class ContactRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", _("Decision maker")
    ECONOMIC_BUYER = "economic_buyer", _("Economic buyer")
    TECHNICAL = "technical", _("Technical evaluator")
    INFLUENCER = "influencer", _("Influencer")
    CHAMPION = "champion", _("Champion")
    USER = "user", _("User")
    OTHER = "other", _("Other")


class OpportunityContactRole(models.Model):
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="contact_roles")
    contact = models.ForeignKey("contacts.Contact", verbose_name=_("contact"), on_delete=models.CASCADE,
                                related_name="opportunity_roles")
    role = models.CharField(_("role"), max_length=20, choices=ContactRole.choices, default=ContactRole.OTHER)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["opportunity", "contact"], name="opp_contact_role_unique")]

    def __str__(self):
        return f"{self.contact_id} as {self.role}"


class StageChange(models.Model):
    """One move of an opportunity between stages: the raw material of the funnel and
    sales-cycle reports."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)
    amount = models.DecimalField(**MONEY)
    probability = models.PositiveSmallIntegerField()
    # Time spent in from_stage, for cycle-length reports without window functions.
    seconds_in_previous = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(fields=["opportunity", "-changed_at"], name="stagechange_opp_idx"),
            models.Index(fields=["to_stage", "changed_at"], name="stagechange_stage_idx"),
        ]

    def __str__(self):
        return f"{self.opportunity_id}: {self.from_stage_id} → {self.to_stage_id}"


# --- Products and price books -----------------------------------------------------


class CatalogueQuerySet(models.QuerySet):
    """Reads of the catalogue (products, price books) through CATALOGUE_DATA: everyone signed in
    reads it, admins and sales managers change it."""

    def visible_to(self, user: User) -> Self:
        from crm import visibility

        rows = self.filter(deleted_at__isnull=True) if _has_deleted_at(self.model) else self
        return rows if visibility.can_read(user, self.model) else rows.none()

    def editable_by(self, user: User) -> Self:
        from crm import visibility

        return self.visible_to(user) if visibility.can_create(user, self.model) else self.none()

    def active(self):
        return self.filter(active=True)


def _has_deleted_at(model) -> bool:
    return any(field.name == "deleted_at" for field in model._meta.concrete_fields)


class Product(models.Model):
    """The product encyclopedia: what a rep sells and shows a customer."""

    visibility_policy = CATALOGUE_DATA

    sku = models.CharField(_("SKU"), max_length=60)
    name = models.CharField(_("name"), max_length=200)
    family = models.CharField(_("family"), max_length=100, blank=True)
    unit = models.CharField(_("unit"), max_length=30, default="pcs")
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    # New: marketing may announce it to the subscribers of its family's topic (marketing/notices.py).
    is_new = models.BooleanField(_("new"), default=False)
    default_price = models.DecimalField(_("default price"), default=Decimal(0),
                                        validators=[MinValueValidator(Decimal(0))], **MONEY)
    currency = currency_field()
    tax_rate = models.DecimalField(_("tax rate, %"), default=Decimal(0), **PERCENT)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Soft delete (an import undone, an unused product removed); a product used on lines is
    # deactivated instead. A deleted product's SKU is free again.
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = CatalogueQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [models.UniqueConstraint(fields=["sku"], condition=models.Q(deleted_at__isnull=True),
                                               name="product_sku_unique_live",
                                               violation_error_message=_("A product with this SKU already exists."))]
        indexes = [
            models.Index(fields=["family", "name"], name="product_family_idx"),
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="product_name_up_trgm"),
        ]

    def __str__(self):
        return f"{self.name} ({self.sku})"

    def get_absolute_url(self):
        return pk_url("sales:product_detail", self.pk)


def product_document_path(document, filename: str) -> str:
    return f"products/{document.product_id}/{timezone.now():%Y%m%d%H%M%S}-{filename}"


class ProductDocument(models.Model):
    """A datasheet, brochure or manual attached to a product (served only to signed-in users)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(_("title"), max_length=200)
    file = models.FileField(_("file"), upload_to=product_document_path, max_length=300)
    content_type = models.CharField(max_length=100, editable=False)
    size = models.PositiveIntegerField(editable=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["title", "id"]

    def __str__(self):
        return self.title


class PriceBookKind(models.TextChoices):
    STANDARD = "standard", _("Standard")
    SEGMENT = "segment", _("Customer segment")
    PARTNER = "partner", _("Partner")
    CURRENCY = "currency", _("Currency")


class PriceBook(models.Model):
    visibility_policy = CATALOGUE_DATA

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=PriceBookKind.choices, default=PriceBookKind.STANDARD)
    currency = currency_field()
    description = models.CharField(_("description"), max_length=300, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    objects = CatalogueQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("price book")
        verbose_name_plural = _("price books")

    def __str__(self):
        return f"{self.name} ({self.currency})"


class PriceBookEntry(models.Model):
    price_book = models.ForeignKey(PriceBook, on_delete=models.CASCADE, related_name="entries")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.CASCADE,
                                related_name="price_entries")
    unit_price = models.DecimalField(_("unit price"), validators=[MinValueValidator(Decimal(0))], **MONEY)

    class Meta:
        ordering = ["product__name"]
        constraints = [models.UniqueConstraint(fields=["price_book", "product"], name="pricebook_entry_unique")]

    def __str__(self):
        return f"{self.product_id} @ {self.unit_price}"


class LineBase(models.Model):
    """A priced line: the same shape on opportunities, quotes, orders and invoices."""

    product = models.ForeignKey(Product, verbose_name=_("product"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(_("item"), max_length=200)
    description = models.CharField(_("description"), max_length=500, blank=True)
    quantity = models.DecimalField(_("quantity"), default=Decimal(1), **QUANTITY)
    unit = models.CharField(_("unit"), max_length=30, blank=True)
    unit_price = models.DecimalField(_("unit price"), validators=[MinValueValidator(Decimal(0))], **MONEY)
    discount_pct = models.DecimalField(_("discount, %"), default=Decimal(0), **PERCENT)
    tax_rate = models.DecimalField(_("tax, %"), default=Decimal(0), **PERCENT)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def __str__(self):
        return self.name


class OpportunityLine(LineBase):
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="lines")

    class Meta(LineBase.Meta):
        pass


# --- Numbering ---------------------------------------------------------------------


class NumberSequence(models.Model):
    """Gap-free document numbers per kind and year (Q-2026-0001), taken under a row lock."""

    kind = models.CharField(max_length=20)
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "year"], name="numbersequence_unique")]

    def __str__(self):
        return f"{self.kind} {self.year}: {self.last_value}"


class DocumentTotals(models.Model):
    """Totals stored on a document, always written by sales.money.compute_totals."""

    currency = currency_field()
    discount_pct = models.DecimalField(_("overall discount, %"), default=Decimal(0), **PERCENT)
    subtotal = models.DecimalField(_("subtotal"), default=Decimal(0), editable=False, **MONEY)
    discount_total = models.DecimalField(_("discount"), default=Decimal(0), editable=False, **MONEY)
    tax_total = models.DecimalField(_("tax"), default=Decimal(0), editable=False, **MONEY)
    total = models.DecimalField(_("total"), default=Decimal(0), editable=False, **MONEY)

    class Meta:
        abstract = True


# --- Quotes ---------------------------------------------------------------------------


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    EXPIRED = "expired", _("Expired")
    SUPERSEDED = "superseded", _("Superseded by a new version")


class ApprovalStatus(models.TextChoices):
    NOT_NEEDED = "not_needed", _("Not needed")
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["updated_at", "lock_version"],
    model_name="QuoteEvent",
)
class Quote(OwnedModel, DocumentTotals):
    """A commercial proposal. Revising a sent quote creates a new version with the same number."""

    visibility_policy = SALES_DATA

    number = models.CharField(_("number"), max_length=30, editable=False)
    version = models.PositiveSmallIntegerField(_("version"), default=1, editable=False)
    previous_version = models.OneToOneField("self", null=True, blank=True, on_delete=models.SET_NULL,
                                            related_name="next_version", editable=False)
    title = models.CharField(_("title"), max_length=200)
    opportunity = models.ForeignKey(Opportunity, verbose_name=_("opportunity"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="quotes")
    account = models.ForeignKey("accounts.Account", verbose_name=_("account"), on_delete=models.PROTECT,
                                related_name="quotes")
    contact = models.ForeignKey("contacts.Contact", verbose_name=_("addressed to"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    price_book = models.ForeignKey(PriceBook, verbose_name=_("price book"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(_("status"), max_length=20, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT)
    approval_status = models.CharField(_("discount approval"), max_length=20, choices=ApprovalStatus.choices,
                                       default=ApprovalStatus.NOT_NEEDED, editable=False)
    issue_date = models.DateField(_("date"), default=timezone.localdate)
    valid_until = models.DateField(_("valid until"))
    terms = models.TextField(_("terms"), blank=True)
    notes = models.TextField(_("notes for the customer"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True, editable=False)
    decided_at = models.DateTimeField(_("accepted or rejected"), null=True, blank=True, editable=False)
    lock_version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        constraints = [models.UniqueConstraint(fields=["number", "version"], name="quote_number_version_unique")]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="quote_created_idx",
                         condition=models.Q(deleted_at__isnull=True)),
            models.Index(fields=["status", "valid_until"], name="quote_status_valid_idx"),
            # Global search by the beginning of a number (LIKE 'Q-2026-00%') under any collation;
            # orders and invoices have Django's own "_like" index on their unique number.
            models.Index(fields=["number"], name="quote_number_prefix_idx", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self):
        return self.display_number

    def get_absolute_url(self):
        return pk_url("sales:quote_detail", self.pk)

    @property
    def display_number(self) -> str:
        return self.number if self.version == 1 else f"{self.number}/{self.version}"


class QuoteLine(LineBase):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")
    line_total = models.DecimalField(default=Decimal(0), editable=False, **MONEY)

    class Meta(LineBase.Meta):
        pass


class DiscountThreshold(models.Model):
    """The largest discount a role may give without a manager's approval."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, unique=True)
    max_discount_pct = models.DecimalField(_("largest discount without approval, %"), **PERCENT)

    class Meta:
        ordering = ["role"]
        verbose_name = _("discount threshold")
        verbose_name_plural = _("discount thresholds")

    def __str__(self):
        return f"{self.get_role_display()}: {self.max_discount_pct}%"


class DiscountApproval(models.Model):
    """A request to approve a quote's discount, and the manager's decision: the record of it."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="approvals")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    discount_pct = models.DecimalField(_("largest discount asked"), **PERCENT)
    threshold_pct = models.DecimalField(_("threshold"), **PERCENT)
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    status = models.CharField(max_length=20, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.CharField(_("comment"), max_length=500, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["quote"], condition=models.Q(status="pending"),
                                               name="one_pending_approval_per_quote")]

    def __str__(self):
        return f"approval of quote {self.quote_id}: {self.status}"


class CompanyProfile(models.Model):
    """Our own company as printed on quotes and invoices, and the PDF templates the admin edits.
    One row (pk=1)."""

    name = models.CharField(_("company name"), max_length=200, default="Our Company Ltd")
    legal_details = models.TextField(_("address and registration details"), blank=True)
    bank_details = models.TextField(_("bank details"), blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    logo = models.FileField(_("logo (PNG or JPEG, up to 1 MB)"), upload_to="company/", blank=True)
    default_quote_terms = models.TextField(_("default quote terms"), blank=True)
    quote_validity_days = models.PositiveSmallIntegerField(_("quotes are valid for (days)"), default=30)
    invoice_due_days = models.PositiveSmallIntegerField(_("invoices are due after (days)"), default=14)
    quote_template = models.TextField(_("quote PDF template"), blank=True,
                                      help_text=_("Django template; empty uses the built-in one."))
    invoice_template = models.TextField(_("invoice PDF template"), blank=True,
                                        help_text=_("Django template; empty uses the built-in one."))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("company profile")

    def __str__(self):
        return self.name

    @classmethod
    def current(cls) -> "CompanyProfile":
        profile, _created = cls.objects.get_or_create(pk=1)
        return profile


# --- Orders ------------------------------------------------------------------------------


class OrderStatus(models.TextChoices):
    NEW = "new", _("New")
    CONFIRMED = "confirmed", _("Confirmed")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")


class Punctuality(models.TextChoices):
    """How an order's first shipment compares with its promised delivery date."""

    ON_TIME = "on_time", _("On time")
    LATE = "late", _("Late")
    NO_PROMISE = "no_promise", _("No promised date")


class OrderQuerySet(OwnedQuerySet):
    def shipped(self, first: datetime.date | None = None, last: datetime.date | None = None) -> Self:
        """The orders that count as shipped on a day from `first` to `last` (inclusive; either may be open):
        not cancelled, on a live account, their FIRST shipment in the range (an order ships once, on the day
        its first shipment left, however many follow). Aliases `first_shipped_on` for `punctuality()`. The
        customers dashboard's shipments and the order list's `shipped_from`/`shipped_to` both read this."""
        shipments = Shipment.objects.all()
        if first is not None:
            shipments = shipments.filter(shipped_on__gte=first)
        if last is not None:
            shipments = shipments.filter(shipped_on__lte=last)
        orders = (self.exclude(status=OrderStatus.CANCELLED)
                  .filter(account__deleted_at__isnull=True, pk__in=shipments.values("order_id"))
                  .alias(first_shipped_on=first_shipment_day()))
        if first is not None:
            orders = orders.filter(first_shipped_on__gte=first)
        if last is not None:
            orders = orders.filter(first_shipped_on__lte=last)
        return orders

    def punctuality(self, value: str) -> Self:
        """Of `shipped()` orders: on time (first shipment on or before the promised day), late (after it), or
        with no promised day."""
        return self.filter(punctuality_condition(value))


def punctuality_condition(value: str) -> models.Q:
    """The condition on `first_shipped_on` (see OrderQuerySet.shipped) and `promised_on` for one Punctuality."""
    if value == Punctuality.ON_TIME:
        return models.Q(first_shipped_on__lte=models.F("promised_on"))
    if value == Punctuality.LATE:
        return models.Q(first_shipped_on__gt=models.F("promised_on"))
    if value == Punctuality.NO_PROMISE:
        return models.Q(promised_on__isnull=True)
    raise ValueError(value)


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["updated_at", "lock_version"],
    model_name="OrderEvent",
)
class Order(OwnedModel, DocumentTotals):
    """An accepted quote, its lines frozen."""

    visibility_policy = SALES_DATA

    number = models.CharField(_("number"), max_length=30, unique=True, editable=False)
    quote = models.OneToOneField(Quote, verbose_name=_("quote"), null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="order")
    opportunity = models.ForeignKey(Opportunity, verbose_name=_("opportunity"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="orders")
    account = models.ForeignKey("accounts.Account", verbose_name=_("account"), on_delete=models.PROTECT,
                                related_name="orders")
    status = models.CharField(_("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.NEW)
    ordered_on = models.DateField(_("order date"), default=timezone.localdate)
    # What the customer was promised: the customers dashboard's on-time share compares the first shipment with it.
    promised_on = models.DateField(_("promised delivery date"), null=True, blank=True)
    shipping_address = models.TextField(_("shipping address"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    lock_version = models.PositiveIntegerField(default=1, editable=False)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [models.Index(fields=["-created_at", "-id"], name="order_created_idx",
                                condition=models.Q(deleted_at__isnull=True))]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return pk_url("sales:order_detail", self.pk)

    def punctuality(self, first_shipped_on: datetime.date | None) -> str:
        """This order's Punctuality given its first shipment's day ("" before it ships): the rule of
        OrderQuerySet.punctuality, for one order."""
        if first_shipped_on is None:
            return ""
        if self.promised_on is None:
            return Punctuality.NO_PROMISE
        return Punctuality.ON_TIME if first_shipped_on <= self.promised_on else Punctuality.LATE


class OrderLine(LineBase):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    line_total = models.DecimalField(default=Decimal(0), editable=False, **MONEY)

    class Meta(LineBase.Meta):
        pass


class Shipment(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    shipped_on = models.DateField(_("shipped on"), default=timezone.localdate)
    carrier = models.CharField(_("carrier"), max_length=100, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-shipped_on", "-id"]
        # The customers dashboard's shipments: the shipments of a range of days, and each order's first one.
        indexes = [models.Index(fields=["shipped_on", "order"], name="shipment_day_idx")]

    def __str__(self):
        return f"{self.order_id} shipped {self.shipped_on}"


def first_shipment_day(order_ref: str = "pk") -> models.Subquery:
    """The day of an order's first shipment (None until it ships): `order_ref` names the order's id in the
    outer query."""
    return models.Subquery(Shipment.objects.filter(order_id=models.OuterRef(order_ref)).order_by("shipped_on")
                           .values("shipped_on")[:1], output_field=models.DateField())


# --- Invoices and payments -------------------------------------------------------------------


class InvoiceStatus(models.TextChoices):
    ISSUED = "issued", _("Issued")
    PARTLY_PAID = "partly_paid", _("Partly paid")
    PAID = "paid", _("Paid")
    CANCELLED = "cancelled", _("Cancelled")


class InvoiceQuerySet(OwnedQuerySet):
    def outstanding(self):
        return self.filter(status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID])

    def overdue(self, today=None):
        return self.outstanding().filter(due_date__lt=today or timezone.localdate())


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["updated_at", "lock_version"],
    model_name="InvoiceEvent",
)
class Invoice(OwnedModel, DocumentTotals):
    visibility_policy = SALES_DATA

    number = models.CharField(_("number"), max_length=30, unique=True, editable=False)
    order = models.ForeignKey(Order, verbose_name=_("order"), null=True, blank=True, on_delete=models.PROTECT,
                              related_name="invoices")
    account = models.ForeignKey("accounts.Account", verbose_name=_("account"), on_delete=models.PROTECT,
                                related_name="invoices")
    status = models.CharField(_("status"), max_length=20, choices=InvoiceStatus.choices,
                              default=InvoiceStatus.ISSUED)
    issue_date = models.DateField(_("issue date"), default=timezone.localdate)
    due_date = models.DateField(_("due date"))
    amount_paid = models.DecimalField(_("paid"), default=Decimal(0), editable=False, **MONEY)
    notes = models.TextField(_("notes"), blank=True)
    # Exactly once: the overdue notice is claimed by setting this with a conditional UPDATE.
    overdue_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    lock_version = models.PositiveIntegerField(default=1, editable=False)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        ordering = ["-issue_date", "-id"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        indexes = [
            models.Index(fields=["account", "due_date"], name="invoice_account_due_idx",
                         condition=models.Q(status__in=["issued", "partly_paid"])),
            models.Index(fields=["due_date"], name="invoice_overdue_idx",
                         condition=models.Q(status__in=["issued", "partly_paid"], overdue_notified_at__isnull=True)),
            models.Index(fields=["-issue_date", "-id"], name="invoice_issued_idx",
                         condition=models.Q(deleted_at__isnull=True)),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return pk_url("sales:invoice_detail", self.pk)

    @property
    def balance(self) -> Decimal:
        return self.total - self.amount_paid


class InvoiceLine(LineBase):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    line_total = models.DecimalField(default=Decimal(0), editable=False, **MONEY)

    class Meta(LineBase.Meta):
        pass


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    CARD = "card", _("Card")
    CASH = "cash", _("Cash")
    CHEQUE = "cheque", _("Cheque")
    OTHER = "other", _("Other")


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(),
                 model_name="PaymentEvent")
class Payment(models.Model):
    """Money received against an invoice (partial payments allowed). Visible with its invoice."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(_("amount"), validators=[MinValueValidator(Decimal("0.01"))], **MONEY)
    paid_on = models.DateField(_("paid on"), default=timezone.localdate)
    method = models.CharField(_("method"), max_length=20, choices=PaymentMethod.choices,
                              default=PaymentMethod.BANK_TRANSFER)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-paid_on", "-id"]

    def __str__(self):
        return f"{self.amount} on {self.paid_on}"


# --- Targets ---------------------------------------------------------------------------------


class TargetPeriod(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")


class SalesTarget(models.Model):
    """What a rep or a team should win in a month or quarter (in DEFAULT_CURRENCY)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("rep"), null=True, blank=True,
                             on_delete=models.CASCADE, related_name="sales_targets")
    team = models.ForeignKey("crm.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.CASCADE,
                             related_name="sales_targets")
    period = models.CharField(_("period"), max_length=10, choices=TargetPeriod.choices, default=TargetPeriod.MONTH)
    period_start = models.DateField(_("starts"))
    amount = models.DecimalField(_("amount to win"), validators=[MinValueValidator(Decimal(0))], **MONEY)
    deal_count = models.PositiveIntegerField(_("deals to win"), null=True, blank=True)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-period_start"]
        verbose_name = _("sales target")
        verbose_name_plural = _("sales targets")
        constraints = [
            models.CheckConstraint(condition=models.Q(user__isnull=True) ^ models.Q(team__isnull=True),
                                   name="target_user_xor_team"),
            models.UniqueConstraint(fields=["user", "period", "period_start"], name="target_user_period_unique"),
            models.UniqueConstraint(fields=["team", "period", "period_start"], name="target_team_period_unique"),
        ]

    def __str__(self):
        return f"{self.user or self.team} {self.period} {self.period_start}"


# --- Leads ------------------------------------------------------------------------


class LeadStatus(models.TextChoices):
    NEW = "new", _("New")
    WORKING = "working", _("Working")
    QUALIFIED = "qualified", _("Qualified")
    DISQUALIFIED = "disqualified", _("Disqualified")
    CONVERTED = "converted", _("Converted")


class DisqualifyReason(models.TextChoices):
    NO_BUDGET = "no_budget", _("No budget")
    NO_NEED = "no_need", _("No need")
    NO_AUTHORITY = "no_authority", _("Not a decision maker")
    UNREACHABLE = "unreachable", _("Could not reach")
    COMPETITOR = "competitor", _("Works with a competitor")
    DUPLICATE = "duplicate", _("Duplicate")
    SPAM = "spam", _("Spam / fake")
    OTHER = "other", _("Other")


class LeadRating(models.TextChoices):
    HOT = "hot", _("Hot")
    WARM = "warm", _("Warm")
    COLD = "cold", _("Cold")




class LeadQuerySet(OwnedQuerySet):
    def unassigned(self):
        return self.filter(owner__isnull=True)

    def open(self):
        return self.filter(status__in=[LeadStatus.NEW, LeadStatus.WORKING, LeadStatus.QUALIFIED])


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["updated_at", "phone_e164", "lock_version"],
    model_name="LeadEvent",
    meta={"db_table": "contacts_leadevent"},  # the table kept its name when leads moved from contacts
)
class Lead(OwnedModel):
    """Someone who may buy, not yet qualified. An unassigned lead has no owner and waits in its
    team's queue (its team's managers see it) until a rule or a manager assigns it."""

    visibility_policy = LEAD_DATA

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100)
    title = models.CharField(_("job title"), max_length=150, blank=True)
    company = models.CharField(_("company"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    phone_e164 = models.CharField(max_length=20, blank=True, editable=False)
    website = models.URLField(_("website"), blank=True)
    country = models.CharField(_("country"), max_length=100, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    territory = models.ForeignKey("crm.Territory", verbose_name=_("territory"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(_("source"), max_length=20, choices=LeadSource.choices, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=LeadStatus.choices, default=LeadStatus.NEW)
    disqualify_reason = models.CharField(_("disqualified because"), max_length=20, choices=DisqualifyReason.choices,
                                         blank=True)
    rating = models.CharField(_("rating"), max_length=10, choices=LeadRating.choices, blank=True)
    description = models.TextField(_("notes"), blank=True)
    custom = models.JSONField(_("additional fields"), default=dict, blank=True)
    lock_version = models.PositiveIntegerField(default=1, editable=False)  # optimistic locking, as deals
    # What the lead became (set once, by the conversion).
    converted_at = models.DateTimeField(_("converted"), null=True, blank=True, editable=False)
    converted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", editable=False)
    converted_account = models.ForeignKey("accounts.Account", null=True, blank=True, on_delete=models.SET_NULL,
                                          related_name="+", editable=False)
    converted_contact = models.ForeignKey("contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                          related_name="+", editable=False)
    converted_opportunity = models.ForeignKey("Opportunity", null=True, blank=True,
                                              on_delete=models.SET_NULL, related_name="+", editable=False)

    objects = LeadQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        db_table = "contacts_lead"  # kept when leads moved from contacts to sales
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="lead_live_created_idx", condition=LIVE),
            models.Index(fields=["owner", "status", "-created_at"], name="lead_owner_status_idx", condition=LIVE),
            models.Index(fields=["team", "-created_at"], name="lead_queue_idx",
                         condition=models.Q(deleted_at__isnull=True, owner__isnull=True)),
            models.Index(fields=["email"], name="lead_email_idx", condition=~models.Q(email="")),
            models.Index(fields=["phone_e164"], name="lead_phone_idx", condition=~models.Q(phone_e164="")),
            GinIndex(fields=["phone_e164"], name="lead_phone_trgm", opclasses=["gin_trgm_ops"],
                     condition=~models.Q(phone_e164="")),  # the end of a number: LIKE '%6383811'
            GinIndex(OpClass(Upper("last_name"), name="gin_trgm_ops"), name="lead_last_name_up_trgm"),
            GinIndex(OpClass(Upper("company"), name="gin_trgm_ops"), name="lead_company_up_trgm"),
        ]

    def __str__(self):
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        return f"{name} ({self.company})" if self.company else name

    def save(self, *args, **kwargs):
        from crm.phones import normalize_phone, region_for_country

        self.phone_e164 = normalize_phone(self.phone, region_for_country(self.country)) or ""
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "phone_e164"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return pk_url("sales:lead_detail", self.pk)


class LeadRuleMethod(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round-robin among the team's reps")
    USER = "user", _("Always to one person")


class LeadAssignmentRule(models.Model):
    """Distribution of unassigned leads: the first active rule (by position) whose conditions
    match a lead assigns it. Empty conditions match every lead."""

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)
    territory = models.ForeignKey("crm.Territory", verbose_name=_("when the lead's territory is in"), null=True,
                                  blank=True, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(_("when the source is"), max_length=20, choices=LeadSource.choices, blank=True)
    team = models.ForeignKey("crm.Team", verbose_name=_("assign within team"), on_delete=models.CASCADE,
                             related_name="+")
    method = models.CharField(_("how"), max_length=20, choices=LeadRuleMethod.choices,
                              default=LeadRuleMethod.ROUND_ROBIN)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("person"), null=True, blank=True,
                             on_delete=models.CASCADE, related_name="+")
    # Round-robin pointer: the last person this rule assigned to (updated under a row lock).
    last_assigned = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+", editable=False)

    class Meta:
        ordering = ["position", "id"]
        db_table = "contacts_leadassignmentrule"
        verbose_name = _("lead assignment rule")
        verbose_name_plural = _("lead assignment rules")

    def __str__(self):
        return self.name
