"""/api/contacts/: people through the visibility policy, written through contacts.services
(registered with the core's API router at the end of this file)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.models import Account
from contacts import services as contact_services
from contacts.filters import ContactFilter
from contacts.models import Contact
from crm.api.filters import ChangedFilters, IdFilter
from crm.api.routes import register
from crm.api.serializers import OwnedSerializer, TagsField
from crm.api.views import OwnedViewSet, crud_docs
from crm.models import CustomFieldTarget
from crm.phones import invalid_phone_message, normalize_phone


class ContactSerializer(OwnedSerializer):
    """A person, usually at an account."""

    custom_target = CustomFieldTarget.CONTACT
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.none(), required=False, allow_null=True,
                                                 help_text=_("Account id (a visible account)."))
    emails = serializers.ListField(child=serializers.EmailField(max_length=254), required=False, max_length=20,
                                   help_text=_("Stored lower-cased, without duplicates."))
    phones = serializers.ListField(child=serializers.CharField(max_length=40), required=False, max_length=20,
                                   help_text=_("Any format; stored as E.164 (+442079460000)."))
    tags = TagsField()
    custom = serializers.DictField(required=False, help_text=_("Admin-defined fields by key; null clears one."))
    phone_kinds = serializers.DictField(child=serializers.CharField(), read_only=True, help_text=_(
        "What each number is for, by E.164 number: mobile, work, home, fax or other (from a vCard import)."))
    email_kinds = serializers.DictField(child=serializers.CharField(), read_only=True, help_text=_(
        "What each address is for, by address: work, home or other (from a vCard import)."))

    class Meta:
        model = Contact
        fields = [
            "id", "first_name", "middle_name", "last_name", "full_name", "title", "department", "account", "emails",
            "phones", "phone_kinds", "email_kinds", "website", "preferred_channel", "birthday", "lead_source", "tags",
            "address", "city", "region", "postal_code", "country", "description", "custom",
            "email_opt_in", "email_opt_in_at", "email_opt_in_source", "email_opt_in_wording", "email_opted_out_at",
            "do_not_call", *OwnedSerializer.common_fields,
        ]
        read_only_fields = ["full_name", "phone_kinds", "email_kinds", "email_opt_in_at", "email_opted_out_at"]

    def limit_choices(self, user):
        accounts = Account.objects.visible_to(user)
        if self.instance is not None and getattr(self.instance, "account_id", None):
            # The contact's current account may stay, even if the user cannot open it.
            accounts = accounts | Account.objects.filter(pk=self.instance.account_id)
        self.fields["account"].queryset = accounts.distinct()

    def validate_emails(self, value):
        emails = []
        for email in value:
            if email.lower() not in emails:
                emails.append(email.lower())
        return emails

    def _account_country(self) -> str:
        """The country of the account sent (else the contact's current one)."""
        data = self.initial_data if isinstance(getattr(self, "initial_data", None), dict) else {}
        account_id = data["account"] if "account" in data else getattr(self.instance, "account_id", None)
        if not str(account_id or "").isdigit():
            return ""
        return self.fields["account"].queryset.filter(pk=account_id).values_list("country", flat=True).first() or ""

    def validate_phones(self, value):
        phones, errors = [], []
        region = self.phone_region(self._account_country())
        for raw in value:
            normalized = normalize_phone(raw, region)
            if normalized is None:
                errors.append(invalid_phone_message(raw.strip(), region))
            elif normalized not in phones:
                phones.append(normalized)
        if errors:
            raise serializers.ValidationError(errors)
        return phones


class ContactApiFilter(ChangedFilters, ContactFilter):
    owner = IdFilter(field_name="owner_id", label=_("Owner (user id)"))
    account = IdFilter(field_name="account_id", label=_("Account id"))

    class Meta(ContactFilter.Meta):
        fields = [*ContactFilter.Meta.fields, "owner"]


@crud_docs("contact", "contacts", "`q` matches a name, an e-mail or a phone in any format.")
class ContactViewSet(OwnedViewSet):
    model = Contact
    serializer_class = ContactSerializer
    filterset_class = ContactApiFilter
    ordering_fields = ("id", "last_name", "created_at", "updated_at")

    def create_record(self, data):
        return contact_services.contact_create(actor=self.request.user, **data)

    def update_record(self, instance, data):
        return contact_services.contact_update(contact=instance, actor=self.request.user, **data)

    def delete_record(self, instance):
        contact_services.contact_delete(contact=instance, actor=self.request.user)


register("contacts", ContactViewSet, basename="contact")
