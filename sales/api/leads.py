"""/api/leads/: read through the visibility policy (LEAD_DATA), write through sales.lead_services.
A lead created without an owner is distributed by the assignment rules, like a web-form or
imported lead."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from crm.api.filters import ChangedFilters, IdFilter
from crm.api.serializers import OwnedSerializer
from crm.api.views import VERSION_HELP, OwnedViewSet, crud_docs
from crm.models import CustomFieldTarget
from crm.phones import international, invalid_phone_message, normalize_phone
from sales import lead_services
from sales.api.opportunities import Conflict
from sales.lead_filters import LeadFilter
from sales.models import Lead, LeadStatus
from sales.services import StaleWrite


class LeadSerializer(OwnedSerializer):
    """Someone who may buy, not yet qualified."""

    custom_target = CustomFieldTarget.LEAD
    custom = serializers.DictField(required=False, help_text=_("Admin-defined fields by key; null clears one."))
    # Every status is in the schema (the API answers "converted" too); a client may set the first four.
    status = serializers.ChoiceField(
        choices=LeadStatus.choices, required=False,
        help_text=_("new, working, qualified or disqualified (with disqualify_reason). A lead becomes "
                    "“converted” only through the conversion screen: sending it is refused."))
    lock_version = serializers.IntegerField(required=False, help_text=VERSION_HELP)

    class Meta:
        model = Lead
        fields = [
            "id", "first_name", "last_name", "title", "company", "email", "phone", "website", "country", "city",
            "territory", "source", "status", "disqualify_reason", "rating", "description", "custom",
            "converted_at", "converted_account", "converted_contact", "converted_opportunity", "lock_version",
            *OwnedSerializer.common_fields,
        ]
        read_only_fields = ["converted_at", "converted_account", "converted_contact", "converted_opportunity"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].allow_null = True
        self.fields["owner"].help_text = _("User id. Leave out (or null) on create to have the lead distributed "
                                           "by the assignment rules.")

    def validate_status(self, value):
        if value == LeadStatus.CONVERTED:
            raise serializers.ValidationError(_("A lead becomes converted only through the conversion."))
        return value

    def validate_phone(self, value):
        value = value.strip()
        if not value:
            return value
        region = self.phone_region()
        if normalize_phone(value, region) is None:
            raise serializers.ValidationError(invalid_phone_message(value, region))
        return international(value, region)

    def validate_email(self, value):
        return value.strip().lower()


class LeadApiFilter(ChangedFilters, LeadFilter):
    territory = IdFilter(field_name="territory_id", label=_("Territory id"))

    class Meta(LeadFilter.Meta):
        fields = [*LeadFilter.Meta.fields, "territory"]


@crud_docs("lead", "leads", "Filters as on the leads page: status (or `open`), source, rating, owner (`me`, `none` "
                             "or a user id), `q` (name, company, e-mail or a phone in any format).")
class LeadViewSet(OwnedViewSet):
    model = Lead
    versioned = True
    serializer_class = LeadSerializer
    filterset_class = LeadApiFilter
    ordering_fields = ("id", "last_name", "created_at", "updated_at")

    def base_queryset(self):
        return Lead.objects.select_related("owner")

    def create_record(self, data):
        data.pop("lock_version", None)
        return lead_services.lead_create(actor=self.request.user, **data)

    def update_record(self, instance, data):
        expected = data.pop("lock_version", None)
        try:
            return lead_services.lead_update(lead=instance, actor=self.request.user, expected_version=expected,
                                             **data)
        except StaleWrite:
            raise Conflict(_("Someone else changed this lead since you read it: read it again.")) from None

    def delete_record(self, instance):
        lead_services.lead_delete(lead=instance, actor=self.request.user)
