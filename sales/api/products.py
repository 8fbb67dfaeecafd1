"""Read-only API for the product catalogue (/api/products/, /api/price-books/).

The catalogue policy (CATALOGUE_DATA) lets every signed-in role read it; rows come through
`visible_to(user)` like the pages, so a deleted or missing product answers 404. Products and
price books are changed on the pages (sales/product_services.py), not here.
"""

import django_filters
from django.db.models import Prefetch, Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from crm.visibility import get_visible_or_404
from sales.models import PriceBook, PriceBookEntry, PriceBookKind, Product


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "sku", "name", "family", "unit", "description", "active", "default_price", "currency",
                  "tax_rate", "created_at", "updated_at"]
        read_only_fields = fields


class PriceBookEntrySerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)

    class Meta:
        model = PriceBookEntry
        fields = ["product", "sku", "unit_price"]
        read_only_fields = fields


class PriceBookSerializer(serializers.ModelSerializer):
    class Meta:
        model = PriceBook
        fields = ["id", "name", "kind", "currency", "description", "valid_from", "valid_until", "active"]
        read_only_fields = fields


class PriceBookDetailSerializer(PriceBookSerializer):
    entries = PriceBookEntrySerializer(many=True, read_only=True)

    class Meta(PriceBookSerializer.Meta):
        fields = [*PriceBookSerializer.Meta.fields, "entries"]
        read_only_fields = fields


class ProductApiFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("SKU (beginning) or name (part)"), method="search")
    sku = django_filters.CharFilter(label=_("Exact SKU"))
    family = django_filters.CharFilter(label=_("Family"), lookup_expr="iexact")
    active = django_filters.BooleanFilter(label=_("Active"))
    updated_after = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte",
                                                     label=_("Changed at or after (ISO 8601)"))

    class Meta:
        model = Product
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(sku__istartswith=value) | Q(name__icontains=value)) if value else queryset


class PriceBookApiFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=PriceBookKind.choices)
    currency = django_filters.CharFilter(label=_("Currency"), lookup_expr="iexact")
    active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = PriceBook
        fields = []


@extend_schema_view(
    list=extend_schema(summary="List products", description="The product catalogue, every role may read it. "
                                                            "Cursor-paginated: follow `next`."),
    retrieve=extend_schema(summary="Read one product", description="404 when the product is missing or deleted."),
)
class ProductViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ProductSerializer
    filterset_class = ProductApiFilter
    ordering = ("-id",)
    ordering_fields = ("id", "sku", "name", "updated_at")

    def get_queryset(self):
        return Product.objects.visible_to(self.request.user)

    def get_object(self):
        return get_visible_or_404(Product, self.request.user, pk=self.kwargs["pk"])


@extend_schema_view(
    list=extend_schema(summary="List price books", description="Price books without their entries; read one "
                                                               "price book for its prices."),
    retrieve=extend_schema(summary="Read one price book", description="With every entry (product and unit price)."),
)
class PriceBookViewSet(viewsets.ReadOnlyModelViewSet):
    filterset_class = PriceBookApiFilter
    ordering = ("-id",)
    ordering_fields = ("id", "name")

    def get_serializer_class(self):
        return PriceBookDetailSerializer if self.action == "retrieve" else PriceBookSerializer

    def get_queryset(self):
        return PriceBook.objects.visible_to(self.request.user)

    def get_object(self):
        entries = PriceBookEntry.objects.select_related("product").filter(product__deleted_at__isnull=True)
        queryset = PriceBook.objects.prefetch_related(Prefetch("entries", queryset=entries.order_by("product__sku")))
        return get_visible_or_404(queryset, self.request.user, pk=self.kwargs["pk"])
