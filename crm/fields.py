"""Form fields shared by several apps."""

from django import forms
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from crm.phones import default_region, invalid_phone_message, normalize_phone


def _split(value: str) -> list[str]:
    return [item.strip() for item in (value or "").replace(";", ",").replace("\n", ",").split(",") if item.strip()]


class MultiEmailField(forms.CharField):
    """Several e-mail addresses, one per line or comma-separated; stored lower-cased."""

    widget = forms.Textarea(attrs={"rows": 2})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        emails = []
        for item in _split(value):
            try:
                validate_email(item)
            except forms.ValidationError:
                raise forms.ValidationError(_("“%(value)s” is not a valid e-mail address."), params={"value": item}
                                            ) from None
            if item.lower() not in emails:
                emails.append(item.lower())
        return emails


class MultiPhoneField(forms.CharField):
    """Several phone numbers in any format; stored as E.164 (+442079460000). A number without a
    country code is read in `region` (the form sets it from the record's or the user's country)."""

    widget = forms.Textarea(attrs={"rows": 2})

    def __init__(self, *args, region: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.region = region

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        phones = []
        for item in _split(value):
            normalized = normalize_phone(item, self.region)
            if normalized is None:
                raise forms.ValidationError(invalid_phone_message(item, self.region or default_region()))
            if normalized not in phones:
                phones.append(normalized)
        return phones


class TagsField(forms.CharField):
    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        tags = []
        for item in _split(value):
            tag = item[:50]
            if tag.lower() not in [t.lower() for t in tags]:
                tags.append(tag)
        return tags
