"""/api/accounts/: customer accounts through the visibility policy, written through
accounts.services (registered with the core's API router at the end of this file)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts import services as account_services
from accounts.filters import AccountFilter
from accounts.models import Account
from crm.api.filters import ChangedFilters, IdFilter
from crm.api.routes import register
from crm.api.serializers import OwnedSerializer, TagsField
from crm.api.views import OwnedViewSet, crud_docs
from crm.models import CustomFieldTarget
from crm.phones import international, invalid_phone_message, normalize_phone


class AccountSerializer(OwnedSerializer):
    """A customer account (a company)."""

    custom_target = CustomFieldTarget.ACCOUNT
    tags = TagsField()
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True,
                                  help_text=_("Any format; must be a valid number (with the country code "
                                              "unless it is local to the default region)."))
    parent = serializers.PrimaryKeyRelatedField(queryset=Account.objects.none(), required=False, allow_null=True,
                                                help_text=_("Parent account id (a visible account)."))
    custom = serializers.DictField(required=False, help_text=_("Admin-defined fields by key; null clears one."))

    class Meta:
        model = Account
        fields = [
            "id", "name", "legal_name", "type", "industry", "is_vip", "tier", "tax_number", "parent", "territory",
            "phone", "phone_e164", "email", "website", "country", "city", "address", "shipping_address",
            "annual_revenue", "employees", "lead_source", "tags", "custom", "description",
            *OwnedSerializer.common_fields,
        ]
        read_only_fields = ["phone_e164"]

    def limit_choices(self, user):
        parents = Account.objects.visible_to(user)
        if self.instance is not None and getattr(self.instance, "pk", None):
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = parents

    def validate_phone(self, value):
        value = value.strip()
        if not value:
            return value
        region = self.phone_region()
        if normalize_phone(value, region) is None:
            raise serializers.ValidationError(invalid_phone_message(value, region))
        return international(value, region)

    def validate_parent(self, parent):
        if parent is not None and self.instance is not None and getattr(self.instance, "pk", None):
            below = {row[0] for row in Account.objects.subtree(self.instance.pk)}
            if parent.pk in below:
                raise serializers.ValidationError(
                    _("An account cannot belong to itself or to one of its subsidiaries."))
        return parent


class AccountApiFilter(ChangedFilters, AccountFilter):
    owner = IdFilter(field_name="owner_id", label=_("Owner (user id)"))
    parent = IdFilter(field_name="parent_id", label=_("Parent account id"))

    class Meta(AccountFilter.Meta):
        pass


@crud_docs("account", "accounts", "Filters as on the accounts page; `q` matches name, e-mail, tax number or a "
                                   "phone in any format.")
class AccountViewSet(OwnedViewSet):
    model = Account
    serializer_class = AccountSerializer
    filterset_class = AccountApiFilter
    ordering_fields = ("id", "name", "created_at", "updated_at")

    def create_record(self, data):
        return account_services.account_create(actor=self.request.user, **data)

    def update_record(self, instance, data):
        return account_services.account_update(account=instance, actor=self.request.user, **data)

    def delete_record(self, instance):
        account_services.account_delete(account=instance, actor=self.request.user)


register("accounts", AccountViewSet, basename="account")
