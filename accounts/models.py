"""Customer accounts (companies)."""

from decimal import Decimal

import pghistory
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.validators import MinValueValidator
from django.db import connection, models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.choices import LeadSource
from crm.models import OwnedModel, OwnedQuerySet, Territory
from crm.phones import normalize_phone, region_for_country
from crm.urlcache import pk_url
from crm.visibility import CUSTOMER_DATA


class AccountType(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    CUSTOMER = "customer", _("Customer")
    PARTNER = "partner", _("Partner")
    RESELLER = "reseller", _("Reseller")
    SUPPLIER = "supplier", _("Supplier")
    COMPETITOR = "competitor", _("Competitor")


class AccountTier(models.TextChoices):
    STRATEGIC = "strategic", _("Strategic")
    KEY = "key", _("Key")
    STANDARD = "standard", _("Standard")
    SMALL = "small", _("Small")


class AbcClass(models.TextChoices):
    """The account's share of the last 12 months' revenue (reports/ranking.py computes it)."""

    A = "A", _("A: the top 80 percent of revenue")
    B = "B", _("B: the next 15 percent of revenue")
    C = "C", _("C: the last 5 percent of revenue")


class RfmClass(models.TextChoices):
    """Where the account stands by recency, frequency and money of its purchases (reports/ranking.py)."""

    CHAMPIONS = "champions", _("Champions")
    LOYAL = "loyal", _("Loyal")
    NEW = "new", _("New customers")
    PROMISING = "promising", _("Promising")
    AT_RISK = "at_risk", pgettext_lazy("RFM class", "At risk")
    HIBERNATING = "hibernating", _("Hibernating")
    LOST = "lost", pgettext_lazy("RFM class", "Lost")


MAX_TREE_DEPTH = 12
MAX_TREE_SIZE = 500


class AccountQuerySet(OwnedQuerySet):
    def customers(self):
        return self.filter(type=AccountType.CUSTOMER)

    def subtree(self, root_id: int) -> list[tuple[int, int, int | None]]:
        """(id, depth, parent_id) of the account and all its subsidiaries, any depth (bounded),
        depth-first, in one recursive query."""
        with connection.cursor() as cursor:
            cursor.execute(
                """
                WITH RECURSIVE tree(id, depth, parent_id, path) AS (
                    SELECT id, 0, parent_id, ARRAY[lower(name), id::text] FROM accounts_account WHERE id = %s
                    UNION ALL
                    SELECT child.id, tree.depth + 1, child.parent_id, tree.path || lower(child.name) || child.id::text
                    FROM accounts_account child JOIN tree ON child.parent_id = tree.id
                    WHERE tree.depth < %s AND child.deleted_at IS NULL
                )
                SELECT id, depth, parent_id FROM tree ORDER BY path LIMIT %s
                """,
                [root_id, MAX_TREE_DEPTH, MAX_TREE_SIZE],
            )
            return list(cursor.fetchall())


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    # The ranking is rewritten by the scheduler every night: not a change anyone made to the account.
    exclude=["updated_at", "phone_e164", "abc_class", "abc_previous", "rfm_class", "rfm_previous", "rfm_score",
             "purchases_12m", "revenue_12m", "last_purchase_on"],
    model_name="AccountEvent",
)
class Account(OwnedModel):
    visibility_policy = CUSTOMER_DATA

    name = models.CharField(_("name"), max_length=200)
    legal_name = models.CharField(_("legal name"), max_length=300, blank=True)
    tax_number = models.CharField(_("tax number"), max_length=40, blank=True)
    type = models.CharField(_("type"), max_length=20, choices=AccountType.choices, default=AccountType.PROSPECT)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    is_vip = models.BooleanField(_("VIP"), default=False)
    tier = models.CharField(_("tier"), max_length=20, choices=AccountTier.choices, blank=True)
    territory = models.ForeignKey(
        Territory, verbose_name=_("territory"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    parent = models.ForeignKey(
        "self", verbose_name=_("parent account"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="children",
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    phone_e164 = models.CharField(max_length=20, blank=True, editable=False)  # for search in any format
    email = models.EmailField(_("e-mail"), blank=True)
    website = models.URLField(_("website"), blank=True)
    country = models.CharField(_("country"), max_length=100, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    address = models.TextField(_("billing address"), blank=True)
    shipping_address = models.TextField(_("shipping address"), blank=True)
    annual_revenue = models.DecimalField(
        _("annual revenue"), max_digits=16, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal(0), message=_("Annual revenue cannot be negative."))])
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    lead_source = models.CharField(_("lead source"), max_length=20, choices=LeadSource.choices, blank=True)
    tags = ArrayField(models.CharField(max_length=50), verbose_name=_("tags"), default=list, blank=True)
    custom = models.JSONField(_("additional fields"), default=dict, blank=True)
    description = models.TextField(_("description"), blank=True)
    # The customer ranking (reports/ranking.py, refreshed by the scheduler; never edited by hand). Blank: the
    # account bought nothing in the window. `*_previous`: the class at the end of the previous month.
    abc_class = models.CharField(_("ABC class"), max_length=1, choices=AbcClass.choices, blank=True,
                                 editable=False)
    abc_previous = models.CharField(_("ABC class last month"), max_length=1, choices=AbcClass.choices, blank=True,
                                    editable=False)
    rfm_class = models.CharField(_("RFM class"), max_length=20, choices=RfmClass.choices, blank=True,
                                 editable=False)
    rfm_previous = models.CharField(_("RFM class last month"), max_length=20, choices=RfmClass.choices,
                                    blank=True, editable=False)
    rfm_score = models.CharField(_("RFM score"), max_length=3, blank=True, editable=False)
    purchases_12m = models.PositiveIntegerField(_("purchases in 12 months"), default=0, editable=False)
    revenue_12m = models.DecimalField(_("revenue in 12 months"), max_digits=16, decimal_places=2,
                                      default=Decimal(0), editable=False)
    last_purchase_on = models.DateField(_("last purchase"), null=True, blank=True, editable=False)

    objects = AccountQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        indexes = [
            models.Index(fields=["owner", "name"], name="account_owner_name_idx"),
            models.Index(fields=["team", "name"], name="account_team_name_idx"),
            models.Index(fields=["name", "id"], name="account_name_id_idx"),
            GinIndex(fields=["name"], name="account_name_trgm", opclasses=["gin_trgm_ops"]),
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="account_name_up_trgm"),
            models.Index(fields=["name", "id"], name="account_live_name_idx",
                         condition=models.Q(deleted_at__isnull=True)),
            models.Index(fields=["-updated_at", "-id"], name="account_live_updated_idx",
                         condition=models.Q(deleted_at__isnull=True)),
            models.Index(fields=["phone_e164"], name="account_phone_idx", condition=~models.Q(phone_e164="")),
            # The end of a number ("638-38-11"): phone_e164 LIKE '%6383811'.
            GinIndex(fields=["phone_e164"], name="account_phone_trgm", opclasses=["gin_trgm_ops"],
                     condition=~models.Q(phone_e164="")),
            models.Index(fields=["tax_number"], name="account_tax_number_idx", condition=~models.Q(tax_number="")),
            models.Index(fields=["parent"], name="account_parent_idx", condition=models.Q(parent__isnull=False)),
            GinIndex(fields=["tags"], name="account_tags_gin"),
            GinIndex(fields=["custom"], name="account_custom_gin", opclasses=["jsonb_path_ops"]),
            models.Index(fields=["abc_class", "name", "id"], name="account_abc_idx", condition=~models.Q(abc_class="")),
            models.Index(fields=["rfm_class", "name", "id"], name="account_rfm_idx", condition=~models.Q(rfm_class="")),
            # The visibility scopes (docs/benchmarks.md, issue 16). A manager's team as an index-only scan: the team
            # index alone read every heap page of the team's rows to test deleted_at (10,000 pages for 40,000
            # accounts, 137 ms at 200,000 accounts; 3 ms with it). A rep's "shared with my team" arm: without it the
            # team index returned all 40,000 of the team's rows to keep the 6,000 shared ones.
            models.Index(fields=["team", "id"], name="account_live_team_idx",
                         condition=models.Q(deleted_at__isnull=True)),
            models.Index(fields=["team", "id"], name="account_shared_team_idx",
                         condition=models.Q(shared_with_team=True, deleted_at__isnull=True)),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # The forms store numbers in international format; a national one is read in the country's region.
        self.phone_e164 = normalize_phone(self.phone, region_for_country(self.country)) or ""
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "phone_e164"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return pk_url("accounts:detail", self.pk)
