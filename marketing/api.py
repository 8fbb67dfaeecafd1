"""/api/campaigns/: campaigns through the visibility policy (support: none), written through
marketing.services, with the figures computed from the records (read only)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from crm.api.filters import ChangedFilters, IdFilter
from crm.api.routes import register
from crm.api.serializers import OwnedSerializer
from crm.api.views import OwnedViewSet, crud_docs
from marketing import services
from marketing.figures import with_list_figures
from marketing.filters import CampaignFilter
from marketing.models import Campaign


class CampaignSerializer(OwnedSerializer):
    """A marketing campaign: its plan, budget and what it has cost and brought so far."""

    parent = serializers.PrimaryKeyRelatedField(queryset=Campaign.objects.none(), required=False, allow_null=True,
                                                help_text=_("Parent campaign id (a campaign you may see)."))
    cost = serializers.DecimalField(source="cost_total", max_digits=16, decimal_places=2, read_only=True,
                                    help_text=_("The sum of the cost lines, in the campaign's currency."))
    leads = serializers.IntegerField(source="lead_total", read_only=True,
                                     help_text=_("Leads attributed to the campaign."))

    class Meta:
        model = Campaign
        fields = ["id", "name", "type", "status", "start_date", "end_date", "currency", "budget",
                  "expected_revenue", "parent", "description", "cost", "leads", *OwnedSerializer.common_fields]

    def limit_choices(self, user):
        parents = Campaign.objects.visible_to(user)
        if self.instance is not None and getattr(self.instance, "pk", None):
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = parents

    def validate(self, attrs):
        start = attrs.get("start_date", getattr(self.instance, "start_date", None))
        end = attrs.get("end_date", getattr(self.instance, "end_date", None))
        if start and end and end < start:
            raise serializers.ValidationError({"end_date": [_("The campaign cannot end before it starts.")]})
        return attrs


class CampaignApiFilter(ChangedFilters, CampaignFilter):
    owner = IdFilter(field_name="owner_id", label=_("Owner (user id)"))
    parent = IdFilter(field_name="parent_id", label=_("Parent campaign id"))

    class Meta(CampaignFilter.Meta):
        pass


@crud_docs("campaign", "campaigns", "Filters as on the campaigns page; `q` matches the name. `cost` and `leads` "
                                     "are computed from the records.")
class CampaignViewSet(OwnedViewSet):
    model = Campaign
    serializer_class = CampaignSerializer
    filterset_class = CampaignApiFilter
    ordering_fields = ("id", "name", "start_date", "created_at", "updated_at")

    def base_queryset(self):
        return with_list_figures(Campaign.objects.select_related("owner"))

    def _with_figures(self, campaign):
        return with_list_figures(Campaign.objects.filter(pk=campaign.pk)).get()

    def create_record(self, data):
        return self._with_figures(services.campaign_create(actor=self.request.user, **data))

    def update_record(self, instance, data):
        return self._with_figures(services.campaign_update(campaign=instance, actor=self.request.user, **data))

    def delete_record(self, instance):
        services.campaign_delete(campaign=instance, actor=self.request.user)


register("campaigns", CampaignViewSet, basename="campaign")
