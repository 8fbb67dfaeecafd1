"""/api/tickets/: tickets through the visibility policy (support: all; sales: its customers'),
opened and changed through service.services; `/api/tickets/<id>/messages/` reads the public
conversation and internal notes (staff only: the API is for staff tokens)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import Account
from contacts.models import Contact
from crm.api.filters import ChangedFilters, IdFilter
from crm.api.routes import register
from crm.api.serializers import OwnedSerializer, TagsField
from crm.api.views import OwnedViewSet, crud_docs
from crm.models import User
from crm.visibility import get_visible_or_404
from service import services
from service.filters import ArticleFilter, ContractFilter, TicketFilter, WorkOrderFilter
from service.forms import TICKET_CUSTOM_FIELDS, support_people
from service.models import Article, Contract, Queue, Ticket, TicketMessage, WorkLog, WorkOrder


class TicketSerializer(OwnedSerializer):
    """A customer request with its SLA clock. `owner` is the assignee (null: waiting in its queue)."""

    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(), required=False, allow_null=True,
        help_text=_("Assignee (user id of a support agent); leave out to let the queue's rule decide."))
    tags = TagsField()
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.none(), required=False, allow_null=True)
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.none(), required=False, allow_null=True)
    queue = serializers.PrimaryKeyRelatedField(queryset=Queue.objects.all(), required=False, allow_null=True,
                                               help_text=_("Leave out: the queue that takes the category."))
    custom_target = TICKET_CUSTOM_FIELDS
    custom = serializers.DictField(required=False, help_text=_("Admin-defined fields by key; null clears one."))

    class Meta:
        model = Ticket
        fields = [
            "id", "number", "subject", "description", "account", "contact", "channel", "category", "product",
            "priority", "status", "queue", "sla_policy", "sla_state", "first_response_due", "resolution_due",
            "first_responded_at", "first_response_minutes", "resolved_at", "resolution_minutes", "sla_met", "tags",
            "custom", *OwnedSerializer.common_fields,
        ]
        read_only_fields = ["number", "status", "sla_policy", "sla_state", "first_response_due", "resolution_due",
                            "first_responded_at", "first_response_minutes", "resolved_at", "resolution_minutes",
                            "sla_met"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "owner" in self.fields and getattr(self.fields["owner"], "queryset", None) is not None:
            request = self.context.get("request")
            if request is not None and request.user.is_authenticated:
                self.fields["owner"].queryset = support_people()

    def limit_choices(self, user):
        self.fields["account"].queryset = Account.objects.visible_to(user)
        self.fields["contact"].queryset = Contact.objects.visible_to(user)


class MessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = TicketMessage
        fields = ["id", "kind", "author", "body", "created_at", "emailed_to", "emailed_at"]


class TicketApiFilter(ChangedFilters, TicketFilter):
    owner = IdFilter(field_name="owner_id", label=_("Assignee (user id)"))

    class Meta(TicketFilter.Meta):
        pass


@crud_docs("ticket", "tickets", "Filters as on the tickets page (without a `view` or `status`, open tickets "
                                 "only); `q` matches the number or words of the subject.")
class TicketViewSet(OwnedViewSet):
    model = Ticket
    serializer_class = TicketSerializer
    filterset_class = TicketApiFilter
    ordering_fields = ("id", "created_at", "updated_at", "priority", "resolution_due")

    def base_queryset(self):
        return Ticket.objects.select_related("owner", "queue")

    def create_record(self, data):
        return services.ticket_create(actor=self.request.user, **data)

    def update_record(self, instance, data):
        owner_given, queue_given = "owner" in data, "queue" in data
        owner, queue = data.pop("owner", None), data.pop("queue", None)
        data.pop("shared_with_team", None)
        ticket = services.ticket_update(ticket=instance, actor=self.request.user, **data) if data else instance
        if owner_given or queue_given:
            ticket = services.ticket_assign(ticket=ticket, actor=self.request.user,
                                            owner=owner if owner_given else ticket.owner, queue=queue)
        return ticket

    def delete_record(self, instance):
        services.ticket_delete(ticket=instance, actor=self.request.user)

    @extend_schema(summary="A ticket's conversation", responses=MessageSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def messages(self, request, pk=None):
        ticket = self.get_object()
        rows = ticket.messages.order_by("created_at", "id")[:500]
        return Response(MessageSerializer(rows, many=True).data)


register("tickets", TicketViewSet, basename="ticket")


class ArticleSerializer(serializers.ModelSerializer):
    """A knowledge-base article (read-only through the API)."""

    class Meta:
        model = Article
        fields = ["id", "title", "body", "category", "tags", "status", "audience", "views", "helpful_yes",
                  "helpful_no", "created_at", "updated_at", "published_at"]
        read_only_fields = fields


class ArticleApiFilter(ArticleFilter):
    class Meta(ArticleFilter.Meta):
        pass


@extend_schema_view(
    list=extend_schema(summary="List knowledge-base articles",
                       description="`q` is a full-text search (English and Russian word forms). Cursor-paginated."),
    retrieve=extend_schema(summary="Read one article", description="404 when the article is missing or deleted."),
)
class ArticleViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ArticleSerializer
    filterset_class = ArticleApiFilter
    ordering = ("-id",)
    ordering_fields = ("id", "title", "updated_at", "views")

    def get_queryset(self):
        return Article.objects.visible_to(self.request.user)

    def get_object(self):
        return get_visible_or_404(Article, self.request.user, pk=self.kwargs["pk"])


register("articles", ArticleViewSet, basename="article")


class ContractSerializer(serializers.ModelSerializer):
    """A service contract or warranty (read-only through the API)."""

    state = serializers.SerializerMethodField()

    class Meta:
        model = Contract
        fields = ["id", "number", "name", "kind", "account", "product", "serial_number", "starts_on", "ends_on",
                  "state", "entitlement", "entitled_amount", "sla_policy", "notice_days", "owner", "created_at",
                  "updated_at"]
        read_only_fields = fields

    def get_state(self, contract) -> str:
        return contract.state()


class ContractApiFilter(ChangedFilters, ContractFilter):
    class Meta(ContractFilter.Meta):
        pass


@extend_schema_view(
    list=extend_schema(summary="List contracts and warranties",
                       description="The contracts you may see; `state` is in_force, expiring, expired or upcoming."),
    retrieve=extend_schema(summary="Read one contract or warranty",
                           description="404 when it is missing, deleted or hidden."),
)
class ContractViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ContractSerializer
    filterset_class = ContractApiFilter
    ordering = ("-id",)
    ordering_fields = ("id", "ends_on", "updated_at")

    def get_queryset(self):
        return Contract.objects.visible_to(self.request.user)

    def get_object(self):
        return get_visible_or_404(Contract, self.request.user, pk=self.kwargs["pk"])


register("contracts", ContractViewSet, basename="contract")


class WorkLogSerializer(serializers.ModelSerializer):
    billed_order = serializers.PrimaryKeyRelatedField(read_only=True, help_text=_("The order it was billed on."))

    class Meta:
        model = WorkLog
        fields = ["id", "kind", "user", "minutes", "product", "quantity", "amount", "currency", "note", "worked_on",
                  "billed_order", "billed_at"]
        read_only_fields = fields


class WorkOrderSerializer(serializers.ModelSerializer):
    """A visit for a ticket (read-only through the API); `owner` is the specialist, with the work logged."""

    work_logs = WorkLogSerializer(many=True, read_only=True)

    class Meta:
        model = WorkOrder
        fields = ["id", "number", "ticket", "account", "contact", "skill", "status", "owner", "scheduled_start",
                  "scheduled_end", "started_at", "finished_at", "address", "notes", "work_logs", "created_at",
                  "updated_at"]
        read_only_fields = fields


class WorkOrderApiFilter(ChangedFilters, WorkOrderFilter):
    class Meta(WorkOrderFilter.Meta):
        pass


@extend_schema_view(
    list=extend_schema(summary="List work orders",
                       description="The visits you may see (the ticket's rule; a specialist their own), with the "
                                   "time, materials and expenses logged on each. Cursor-paginated."),
    retrieve=extend_schema(summary="Read one work order", description="404 when it is missing, deleted or hidden."),
)
class WorkOrderViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = WorkOrderSerializer
    filterset_class = WorkOrderApiFilter
    ordering = ("-id",)
    ordering_fields = ("id", "scheduled_start", "updated_at")

    def get_queryset(self):
        return WorkOrder.objects.visible_to(self.request.user).prefetch_related("work_logs")

    def get_object(self):
        return get_visible_or_404(self.get_queryset(), self.request.user, pk=self.kwargs["pk"])


register("work-orders", WorkOrderViewSet, basename="work-order")
