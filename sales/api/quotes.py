"""Read-only API for quotes (/api/quotes/): through the visibility policy like the pages; a hidden
or missing quote answers 404. Quotes are written on the pages (sales/quote_services.py)."""

from rest_framework import serializers

from crm.api.filters import IdFilter
from crm.api.views import VisibleReadOnlyViewSet, read_docs
from sales.api.billing import DOCUMENT_FIELDS, LINE_FIELDS, OWNED_FIELDS
from sales.models import Quote, QuoteLine
from sales.quote_filters import QuoteFilter


class QuoteLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = QuoteLine
        fields = LINE_FIELDS
        read_only_fields = fields


class QuoteSerializer(serializers.ModelSerializer):
    lines = QuoteLineSerializer(many=True, read_only=True)
    display_number = serializers.CharField(read_only=True, help_text="The number with its version: Q-2026-0001/2.")

    class Meta:
        model = Quote
        fields = ["id", "number", "version", "display_number", "previous_version", "title", "opportunity", "account",
                  "contact", "price_book", "status", "approval_status", "issue_date", "valid_until", "terms", "notes",
                  "sent_at", "decided_at", *DOCUMENT_FIELDS, "lines", *OWNED_FIELDS]
        read_only_fields = fields


class QuoteApiFilter(QuoteFilter):
    owner = IdFilter(field_name="owner_id", label="Owner (user id)")
    account = IdFilter(field_name="account_id", label="Account id")
    opportunity = IdFilter(field_name="opportunity_id", label="Opportunity id")

    class Meta(QuoteFilter.Meta):
        pass


@read_docs("quote", "quotes", "Filters: `status`, `approval_status`, `account`, `opportunity`, `owner`, "
                               "`issued_from`, `issued_to`, `q` (number, title or customer).")
class QuoteViewSet(VisibleReadOnlyViewSet):
    model = Quote
    serializer_class = QuoteSerializer
    filterset_class = QuoteApiFilter
    ordering_fields = ("id", "issue_date", "valid_until", "created_at", "updated_at")

    def base_queryset(self):
        return Quote.objects.prefetch_related("lines")
