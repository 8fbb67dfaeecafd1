"""/api/opportunities/ and /api/pipelines/: deals read through the visibility policy (SALES_DATA),
written through sales.services. A write names the `lock_version` it read: a write over a newer
version answers 409 instead of silently overwriting someone else's change."""

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.response import Response

from accounts.models import Account
from contacts.models import Contact
from crm.api.filters import ChangedFilters, IdFilter
from crm.api.serializers import OwnedSerializer
from crm.api.views import VERSION_HELP, OwnedViewSet, crud_docs
from crm.models import CustomFieldTarget, Territory
from crm.visibility import can_read
from sales import services
from sales.filters import OpportunityFilter
from sales.models import Opportunity, Pipeline, Stage, StageKind


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("Someone else changed this opportunity since you read it: read it again.")
    default_code = "conflict"


class OpportunitySerializer(OwnedSerializer):
    """A deal: what, with whom, for how much, when it should close, and where it stands."""

    custom_target = CustomFieldTarget.OPPORTUNITY
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.none(),
                                                 help_text=_("Account id (a visible account)."))
    primary_contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.none(), required=False,
                                                         allow_null=True, help_text=_("Contact id (visible)."))
    pipeline = serializers.PrimaryKeyRelatedField(queryset=Pipeline.objects.filter(active=True))
    stage = serializers.PrimaryKeyRelatedField(queryset=Stage.objects.filter(active=True),
                                               help_text=_("A stage of the pipeline. A lost stage needs lost_reason."))
    probability = serializers.IntegerField(min_value=0, max_value=100, required=False,
                                           help_text=_("Leave out to use the stage's default."))
    lock_version = serializers.IntegerField(required=False, help_text=VERSION_HELP)
    custom = serializers.DictField(required=False, help_text=_("Admin-defined fields by key; null clears one."))

    class Meta:
        model = Opportunity
        fields = [
            "id", "name", "account", "primary_contact", "pipeline", "stage", "amount", "currency", "amount_base",
            "probability", "expected_close_date", "forecast_category", "next_step", "lead_source",
            "competitors", "lost_reason", "lost_note", "closed_at", "stage_changed_at", "description", "custom",
            "lock_version", *OwnedSerializer.common_fields,
        ]
        read_only_fields = ["amount_base", "closed_at", "stage_changed_at"]

    def limit_choices(self, user):
        self.fields["account"].queryset = Account.objects.visible_to(user)
        self.fields["primary_contact"].queryset = Contact.objects.visible_to(user)

    def validate_currency(self, value):
        value = value.strip().upper()
        if len(value) != 3 or not value.isalpha():
            raise serializers.ValidationError(_("Use a three-letter currency code such as EUR."))
        return value

    def validate(self, attrs):
        attrs = super().validate(attrs)
        instance = self.instance
        pipeline = attrs.get("pipeline", instance.pipeline if instance else None)
        stage = attrs.get("stage", instance.stage if instance else None)
        if stage and pipeline and stage.pipeline_id != pipeline.pk:
            raise serializers.ValidationError({"stage": _("This stage belongs to another pipeline.")})
        lost_reason = attrs.get("lost_reason", instance.lost_reason if instance else "")
        if stage and stage.kind == StageKind.LOST and not lost_reason:
            raise serializers.ValidationError({"lost_reason": _("Say why the deal was lost.")})
        return attrs


class OpportunityApiFilter(ChangedFilters, OpportunityFilter):
    owner = IdFilter(field_name="owner_id", label=_("Owner (user id)"))
    account = IdFilter(field_name="account_id", label=_("Account id"))
    territory = IdFilter(label=_("Territory id (its sub-territories included)"), method="in_territory_id")

    class Meta(OpportunityFilter.Meta):
        pass

    def in_territory_id(self, queryset, name, value):
        territory = Territory.objects.filter(pk=value).first()
        return self.in_territory(queryset, name, territory) if territory else queryset.none()


@crud_docs("opportunity", "opportunities", "Filters as on the opportunities page: status (open/won/lost), "
                                            "pipeline, stage, owner, team, forecast_category, close_from/close_to.")
class OpportunityViewSet(OwnedViewSet):
    model = Opportunity
    versioned = True
    serializer_class = OpportunitySerializer
    filterset_class = OpportunityApiFilter
    ordering_fields = ("id", "name", "amount", "expected_close_date", "created_at", "updated_at")

    def base_queryset(self):
        return Opportunity.objects.select_related("stage")

    def create_record(self, data):
        data.pop("lock_version", None)
        return services.opportunity_create(actor=self.request.user, **data)

    def update_record(self, instance, data):
        expected = data.pop("lock_version", None)
        try:
            return services.opportunity_update(opportunity=instance, actor=self.request.user,
                                               expected_version=expected, **data)
        except services.StaleWrite:
            raise Conflict from None

    def delete_record(self, instance):
        services.opportunity_delete(opportunity=instance, actor=self.request.user)


class StageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Stage
        fields = ["id", "name", "position", "probability", "kind", "active"]


class PipelineSerializer(serializers.ModelSerializer):
    """A sales process and its ordered stages (admins edit them on the Pipelines page)."""

    stages = StageSerializer(many=True, read_only=True)

    class Meta:
        model = Pipeline
        fields = ["id", "name", "position", "is_default", "active", "stages"]


class PipelineViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = PipelineSerializer
    pagination_class = None
    # A short list in the admins' order: no filters, no sort parameter (an `ordering` with nothing to
    # sort by was an empty enum in the schema, which client generators refuse).
    filter_backends = ()

    def get_queryset(self):
        if not can_read(self.request.user, Opportunity):
            return Pipeline.objects.none()
        return Pipeline.objects.prefetch_related("stages").order_by("position", "name")

    def list(self, request, *args, **kwargs):
        return Response(self.get_serializer(self.get_queryset(), many=True).data)
