"""Serializers: validation and representation only.

They never save: the views pass `validated_data` to the write services (account_create,
contact_update, activity_delete, …), exactly as the pages do. Every foreign key a client
may send is checked against what the user may see (or, for owners, assign), so a forged id
fails validation like a missing one and names the field.
"""

from datetime import UTC, datetime

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.models import Account
from activities.models import Activity, ActivityKind
from contacts.models import Contact
from crm import custom_fields
from crm.models import CustomFieldTarget, User
from crm.phones import normalize_phone
from crm.visibility import assignable_owners

INVALID_PHONE = _("“%(value)s” is not a valid phone number. Add the country code, e.g. +44 20 7946 0000.")
# Dates outside this range are typing errors, and would overflow reminder arithmetic.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
MAX_REMINDER_MINUTES = 4 * 7 * 24 * 60  # four weeks


def _user(serializer) -> User:
    return serializer.context["request"].user


class TagsField(serializers.ListField):
    child = serializers.CharField(max_length=50)

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 50)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        tags = []
        for tag in super().to_internal_value(data):
            tag = tag.strip()
            if tag and tag.lower() not in {known.lower() for known in tags}:
                tags.append(tag)
        return tags


class OwnedSerializer(serializers.ModelSerializer):
    """Owner, team and timestamps, common to every owned record."""

    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(), required=False,
        help_text=_("User id. Leave out to own the record yourself. Reps may only name themselves, "
                    "managers their teams, admins anyone."))
    team = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True,
                                              help_text=_("The owner's team, set automatically."))
    custom_target = ""

    common_fields = ["owner", "team", "shared_with_team", "created_at", "updated_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is None or not request.user.is_authenticated or isinstance(self.instance, list | tuple):
            return  # schema generation, or many rows being shown: no choices needed
        owners = assignable_owners(request.user)
        if self.instance is not None and getattr(self.instance, "pk", None):
            # Keeping the current owner is always allowed.
            owners = owners | User.objects.filter(pk=self.instance.owner_id)
        self.fields["owner"].queryset = owners.distinct()
        self.limit_choices(request.user)

    def limit_choices(self, user) -> None:
        """Points the foreign-key fields at the rows the user may see."""

    def create(self, validated_data):
        raise NotImplementedError("Writes go through the services (see crm/api/views.py).")

    def update(self, instance, validated_data):
        raise NotImplementedError("Writes go through the services (see crm/api/views.py).")

    def validate(self, attrs):
        if self.custom_target and self.instance is None and "custom" not in attrs:
            try:  # required custom fields must be given
                attrs["custom"] = self.validate_custom({})
            except serializers.ValidationError as error:
                raise serializers.ValidationError({"custom": error.detail}) from None
        return attrs

    def validate_custom(self, value):
        """Admin-defined fields, checked like the form checks them; `null` clears a value."""
        if not isinstance(value, dict):
            raise serializers.ValidationError(_("Expected an object of field keys and values."))
        definitions = {definition.key: definition for definition in custom_fields.definitions(self.custom_target)}
        stored = dict(self.instance.custom or {}) if self.instance is not None else {}
        errors = {}
        for key, raw in value.items():
            definition = definitions.get(key)
            if definition is None:
                errors[key] = [_("There is no such field.")]
                continue
            if raw is None:
                stored.pop(key, None)
                continue
            if isinstance(raw, dict | list):
                errors[key] = [_("Expected a single value.")]
                continue
            field = custom_fields.form_field(definition)
            field.required = False
            try:
                cleaned = field.clean(raw if isinstance(raw, bool) else str(raw))
            except forms.ValidationError as error:
                errors[key] = error.messages
                continue
            converted = custom_fields.to_json(definition, cleaned)
            if converted is None:
                stored.pop(key, None)
            else:
                stored[key] = converted
        for key, definition in definitions.items():
            if definition.required and stored.get(key) in (None, "") and key not in errors:
                errors[key] = [_("This field is required.")]
        if errors:
            raise serializers.ValidationError(errors)
        return stored


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
        if value and normalize_phone(value) is None:
            raise serializers.ValidationError(INVALID_PHONE % {"value": value})
        return value

    def validate_parent(self, parent):
        if parent is not None and self.instance is not None and getattr(self.instance, "pk", None):
            below = {row[0] for row in Account.objects.subtree(self.instance.pk)}
            if parent.pk in below:
                raise serializers.ValidationError(
                    _("An account cannot belong to itself or to one of its subsidiaries."))
        return parent


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

    class Meta:
        model = Contact
        fields = [
            "id", "first_name", "middle_name", "last_name", "full_name", "title", "department", "account", "emails",
            "phones", "preferred_channel", "birthday", "lead_source", "tags", "address", "description", "custom",
            "email_opt_in", "email_opt_in_at", "email_opt_in_source", "email_opt_in_wording", "email_opted_out_at",
            "do_not_call", *OwnedSerializer.common_fields,
        ]
        read_only_fields = ["full_name", "email_opt_in_at", "email_opted_out_at"]

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

    def validate_phones(self, value):
        phones, errors = [], []
        for raw in value:
            normalized = normalize_phone(raw)
            if normalized is None:
                errors.append(INVALID_PHONE % {"value": raw.strip()})
            elif normalized not in phones:
                phones.append(normalized)
        if errors:
            raise serializers.ValidationError(errors)
        return phones


def _in_range(value):
    if value is not None and not EARLIEST <= value < LATEST:
        raise serializers.ValidationError(_("Enter a date between 1900 and 2199."))
    return value


class ActivitySerializer(OwnedSerializer):
    """A call, meeting, task, note or logged e-mail, about an account and/or a contact."""

    kind = serializers.ChoiceField(choices=ActivityKind.choices,
                                   help_text=_("Call, meeting, task, note or e-mail; cannot change later."))
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.none(), required=False, allow_null=True,
                                                 help_text=_("Account id (a visible account)."))
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.none(), required=False, allow_null=True,
                                                 help_text=_("Contact id (a visible contact)."))
    attendees = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), many=True,
                                                   required=False, help_text=_("Colleagues invited (user ids)."))
    contact_attendees = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.none(), many=True,
                                                           required=False,
                                                           help_text=_("Contacts attending (visible contact ids)."))
    remind_minutes_before = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=MAX_REMINDER_MINUTES,
        help_text=_("Tasks and meetings: remind the owner and attendees this many minutes before."))

    class Meta:
        model = Activity
        fields = [
            "id", "kind", "subject", "body", "account", "contact", "occurred_at", "ends_at", "location", "direction",
            "outcome", "duration_minutes", "priority", "status", "completed_at", "attendees", "contact_attendees",
            "remind_minutes_before", *OwnedSerializer.common_fields,
        ]
        read_only_fields = ["completed_at"]

    def limit_choices(self, user):
        accounts = Account.objects.visible_to(user)
        if self.instance is not None and getattr(self.instance, "account_id", None):
            # The contact's current account may stay, even if the user cannot open it.
            accounts = accounts | Account.objects.filter(pk=self.instance.account_id)
        self.fields["account"].queryset = accounts.distinct()
        self.fields["contact"].queryset = Contact.objects.visible_to(user)
        self.fields["contact_attendees"].child_relation.queryset = Contact.objects.visible_to(user)

    validate_occurred_at = staticmethod(_in_range)
    validate_ends_at = staticmethod(_in_range)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        instance = self.instance

        def current(name):
            return attrs[name] if name in attrs else getattr(instance, name, None)

        if instance is not None and "kind" in attrs and attrs["kind"] != instance.kind:
            raise serializers.ValidationError({"kind": _("The kind of an activity cannot change.")})
        kind, account, contact = current("kind"), current("account"), current("contact")
        if not account and not contact and kind != ActivityKind.TASK:
            raise serializers.ValidationError(_("Link it to an account or a contact."))
        if contact and account and contact.account_id and contact.account_id != account.pk:
            raise serializers.ValidationError({"contact": _("This contact belongs to another account.")})
        starts, ends = current("occurred_at"), current("ends_at")
        if starts and ends and ends <= starts:
            raise serializers.ValidationError({"ends_at": _("The end must be after the start.")})
        return attrs


def as_api_error(error: DjangoValidationError) -> dict | list:
    """A service's ValidationError (model full_clean) as a DRF error body."""
    if hasattr(error, "error_dict"):
        return {("non_field_errors" if field == "__all__" else field): messages
                for field, messages in error.message_dict.items()}
    return {"non_field_errors": error.messages}
