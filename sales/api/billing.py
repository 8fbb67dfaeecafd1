"""Read-only API for orders, invoices and payments (/api/orders/, /api/invoices/, /api/payments/).

Rows come through the visibility policy like the pages: orders and invoices from
`visible_to(user)`, payments through their invoice. A hidden or missing row answers 404. Writes
happen on the pages (the billing services), not here.
"""

import django_filters
from rest_framework import serializers

from crm.api.filters import IdFilter
from crm.api.views import VisibleReadOnlyViewSet, read_docs
from sales.billing_filters import InvoiceFilter, OrderFilter
from sales.models import Invoice, InvoiceLine, Order, OrderLine, Payment, Shipment

LINE_FIELDS = ["id", "product", "name", "description", "quantity", "unit", "unit_price", "discount_pct", "tax_rate",
               "position", "line_total"]
DOCUMENT_FIELDS = ["currency", "discount_pct", "subtotal", "discount_total", "tax_total", "total"]
OWNED_FIELDS = ["owner", "team", "created_at", "updated_at"]


class OrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = LINE_FIELDS
        read_only_fields = fields


class InvoiceLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = InvoiceLine
        fields = LINE_FIELDS
        read_only_fields = fields


class ShipmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Shipment
        fields = ["id", "shipped_on", "carrier", "tracking_number", "note", "recorded_at"]
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer):
    lines = OrderLineSerializer(many=True, read_only=True)
    shipments = ShipmentSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = ["id", "number", "quote", "opportunity", "account", "status", "ordered_on", "promised_on",
                  "shipping_address", "notes", *DOCUMENT_FIELDS, "lines", "shipments", *OWNED_FIELDS]
        read_only_fields = fields


class InvoiceSerializer(serializers.ModelSerializer):
    lines = InvoiceLineSerializer(many=True, read_only=True)
    balance = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True,
                                       help_text="Total minus the amount paid.")

    class Meta:
        model = Invoice
        fields = ["id", "number", "order", "account", "status", "issue_date", "due_date", *DOCUMENT_FIELDS,
                  "amount_paid", "balance", "notes", "lines", *OWNED_FIELDS]
        read_only_fields = fields


class PaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = ["id", "invoice", "amount", "paid_on", "method", "reference", "recorded_by", "recorded_at"]
        read_only_fields = fields


class OrderApiFilter(OrderFilter):
    account = IdFilter(field_name="account_id", label="Account id")

    class Meta(OrderFilter.Meta):
        pass


class InvoiceApiFilter(InvoiceFilter):
    account = IdFilter(field_name="account_id", label="Account id")
    order = IdFilter(field_name="order_id", label="Order id")

    class Meta(InvoiceFilter.Meta):
        fields = [*InvoiceFilter.Meta.fields, "order"]


class PaymentApiFilter(django_filters.FilterSet):
    invoice = IdFilter(field_name="invoice_id", label="Invoice id")
    paid_after = django_filters.DateFilter(field_name="paid_on", lookup_expr="gte", label="Paid on or after")
    paid_before = django_filters.DateFilter(field_name="paid_on", lookup_expr="lte", label="Paid on or before")

    class Meta:
        model = Payment
        fields = ["invoice", "paid_after", "paid_before"]


@read_docs("order", "orders", "Filters: `status`, `account`, `q` (number).")
class OrderViewSet(VisibleReadOnlyViewSet):
    model = Order
    serializer_class = OrderSerializer
    filterset_class = OrderApiFilter

    def base_queryset(self):
        return Order.objects.prefetch_related("lines", "shipments")


@read_docs("invoice", "invoices", "Filters: `status`, `account`, `order`, `outstanding`, `overdue`, `q` (number).")
class InvoiceViewSet(VisibleReadOnlyViewSet):
    model = Invoice
    serializer_class = InvoiceSerializer
    filterset_class = InvoiceApiFilter
    ordering_fields = ("id", "issue_date", "due_date", "created_at", "updated_at")

    def base_queryset(self):
        return Invoice.objects.prefetch_related("lines")


@read_docs("payment", "payments", "You see the payments of the invoices you may see.")
class PaymentViewSet(VisibleReadOnlyViewSet):
    model = Payment
    policy_model = Invoice  # a payment is seen with its invoice
    serializer_class = PaymentSerializer
    filterset_class = PaymentApiFilter
    ordering_fields = ("id", "paid_on")

    def get_queryset(self):
        return Payment.objects.filter(invoice__in=Invoice.objects.visible_to(self.request.user).values("pk"))
