"""Serializers: validation and representation only.

They never save: the views pass `validated_data` to the write services (account_create,
contact_update, activity_delete, …), exactly as the pages do. Every foreign key a client
may send is checked against what the user may see (or, for owners, assign), so a forged id
fails validation like a missing one and names the field.

Shared by every module's serializers (accounts/api.py, contacts/api.py, sales/api/, …).
"""

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from crm import custom_fields
from crm.models import User
from crm.phones import phone_region
from crm.visibility import assignable_owners

INVALID_PHONE = _("“%(value)s” is not a valid phone number. Add the country code, e.g. +44 20 7946 0000.")


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

    def phone_region(self, country: str | None = None) -> str:
        """Where a number without a country code is read: the record's country (as sent, else as
        stored), else the user's (crm/phones.py)."""
        if country is None:
            sent = self.initial_data.get("country") if isinstance(getattr(self, "initial_data", None), dict) else None
            country = sent if sent is not None else getattr(self.instance, "country", "")
        request = self.context.get("request")
        return phone_region(request.user if request else None, country)

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


def as_api_error(error: DjangoValidationError) -> dict | list:
    """A service's ValidationError (model full_clean) as a DRF error body."""
    if hasattr(error, "error_dict"):
        return {("non_field_errors" if field == "__all__" else field): messages
                for field, messages in error.message_dict.items()}
    return {"non_field_errors": error.messages}
