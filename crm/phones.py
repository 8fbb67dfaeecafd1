"""Phone numbers: parsed with `phonenumbers`, stored as E.164 so search matches any format."""

import phonenumbers
from django.conf import settings


def default_region() -> str:
    return getattr(settings, "PHONE_DEFAULT_REGION", "GB")


def normalize_phone(raw: str, region: str | None = None) -> str | None:
    """E.164 (+442079460000) for a valid number typed in any format, else None."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    try:
        number = phonenumbers.parse(raw, region or default_region())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def looks_like_phone(text: str) -> bool:
    digits = sum(ch.isdigit() for ch in text)
    return digits >= 6 and all(ch.isdigit() or ch in " +-()./" for ch in text.strip())


def format_phone(e164: str) -> str:
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
