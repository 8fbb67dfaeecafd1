"""Phone numbers: parsed with `phonenumbers`, stored as E.164 so search matches any format.

A number typed without a country code ("8 (912) 345-67-89", "020 7946 0000", "0 44 123 4567")
is read in a region (a country code: RU, GB, UA) that comes from the context, most telling
first (`phone_region`):
1. the record's country ("Россия", "United Kingdom", "UA"), when it names one;
2. the user's own setting (profile), else their team's country, else the country their
   territories name;
3. `settings.PHONE_DEFAULT_REGION`.

Search and the caller lookup read a typed number in the user's region first and then in the
regions of `settings.PHONE_SEARCH_REGIONS`, so a Russian number typed with its trunk "8" is
found by a UK user too (`phone_candidates`).
"""

import re
from functools import cache, lru_cache
from typing import Any

import phonenumbers
from django.conf import settings
from django.db.models import Func, TextField
from django.utils import translation
from django.utils.translation import gettext as _

_USER_CACHE = "_crm_phone_region"
# Names people write in a country field that are not in the phonenumbers name tables.
_ALIASES = {
    "uk": "GB", "england": "GB", "scotland": "GB", "wales": "GB", "great britain": "GB", "britain": "GB",
    "великобритания": "GB", "англия": "GB", "велика британія": "GB", "сполучене королівство": "GB",
    "usa": "US", "u.s.a.": "US", "united states of america": "US", "сша": "US",
    "рф": "RU", "российская федерация": "RU", "russian federation": "RU", "росія": "RU",
    "російська федерація": "RU", "украина": "UA", "україна": "UA", "беларусь": "BY", "білорусь": "BY",
    "казахстан": "KZ", "германия": "DE", "німеччина": "DE", "франция": "FR", "франція": "FR",
}


def default_region() -> str:
    return getattr(settings, "PHONE_DEFAULT_REGION", "GB")


@cache
def _country_names() -> dict[str, str]:
    """Lower-cased country name (in every language phonenumbers knows) or ISO code → region."""
    from phonenumbers.geodata.locale import LOCALE_DATA

    names: dict[str, str] = {}
    for region in phonenumbers.SUPPORTED_REGIONS:
        by_language = LOCALE_DATA.get(region, {})
        for value in by_language.values():
            value = _resolved(by_language, value)
            if value:
                names.setdefault(value.lower(), region)
        names[region.lower()] = region
    names.update(_ALIASES)
    return names


def region_for_country(country: str | None) -> str | None:
    """The region a country field names ("Россия", "United Kingdom", "UA"), or None."""
    text = " ".join((country or "").split()).strip(" .").lower()
    if not text:
        return None
    return _country_names().get(text)


def region_name(region: str, language: str | None = None) -> str:
    """The country's name in the language (the active one by default)."""
    from phonenumbers.geodata.locale import LOCALE_DATA

    language = (language or translation.get_language() or "en").split("-")[0]
    by_language = LOCALE_DATA.get(region, {})
    return _resolved(by_language, by_language.get(language, "*aa")) or region


def _resolved(by_language: dict[str, str], value: str) -> str:
    """"*aa" means "the same name as language aa's" (a few hops at most; the data has a loop)."""
    for _hop in range(4):
        if not value.startswith("*"):
            return value
        value = by_language.get(value[1:], "")
    return ""


def region_choices() -> list[tuple[str, str]]:
    """Every region phonenumbers knows, named in the active language, sorted by name."""
    return sorted(((region, region_name(region)) for region in phonenumbers.SUPPORTED_REGIONS if region != "001"),
                  key=lambda choice: choice[1].lower())


def user_region(user: Any) -> str:
    """The region a user's numbers are typed in: their own setting, their team's country, the
    country their territories (or the regions above them) name, else the default. Remembered
    on the user object, so a request asks the database at most once."""
    if user is None or not getattr(user, "is_authenticated", False):
        return default_region()
    cached = getattr(user, _USER_CACHE, None)
    if cached:
        return str(cached)
    region = getattr(user, "phone_region", "") or ""
    if not region:
        region = _team_or_territory_region(user)
    region = region or default_region()
    setattr(user, _USER_CACHE, region)
    return region


def _team_or_territory_region(user: Any) -> str:
    """The team's country, else the first country the user's territories (or the two levels of
    regions above them) name; one query."""
    from django.contrib.postgres.aggregates import ArrayAgg

    from crm.models import User

    row = User.objects.filter(pk=user.pk).values("team__country").annotate(
        names=ArrayAgg("territories__name", default=[], order_by="territories__name"),
        parents=ArrayAgg("territories__parent__name", default=[], order_by="territories__name"),
        grandparents=ArrayAgg("territories__parent__parent__name", default=[], order_by="territories__name"),
    ).order_by("team__country").first()
    if row is None:
        return ""
    if row["team__country"]:
        return str(row["team__country"])
    for names in zip(row["names"], row["parents"], row["grandparents"], strict=True):
        for name in names:
            region = region_for_country(name)
            if region:
                return region
    return ""


def phone_region(user: Any = None, country: str | None = None) -> str:
    """The region for a number typed without a country code: the record's country, else the user's."""
    return region_for_country(country) or user_region(user)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def normalize_phone(raw: str, region: str | None = None) -> str | None:
    """E.164 (+442079460000) for a valid number typed in any format, else None. `region`: where
    a number without a country code is read (the default region when not given)."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    region = (region or default_region()).upper()
    if region == "UA" and not raw.startswith("+"):
        digits = _digits(raw)
        if len(digits) == 11 and digits.startswith("80"):
            raw = digits[1:]  # the trunk "8 0xx" from before 2010: "8 044 123 45 67"
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def search_regions(user: Any = None) -> list[str]:
    """The regions a typed number is tried in by search and the caller lookup, the user's first."""
    regions = [user_region(user)]
    for region in (*getattr(settings, "PHONE_SEARCH_REGIONS", ()), default_region()):
        if region and region.upper() not in regions:
            regions.append(region.upper())
    return regions


def phone_candidates(raw: str, regions: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Every E.164 number the text can be, read in each region in turn (best first, no repeats):
    "89166383811" is +79166383811 in Russia and nothing in the UK; "020 7946 0000" the reverse."""
    found: list[str] = []
    for region in regions or (default_region(),):
        e164 = normalize_phone(raw, region)
        if e164 and e164 not in found:
            found.append(e164)
    return found


def international(raw: str, region: str | None = None) -> str:
    """The number in international format ("+7 912 345-67-89"), unambiguous whatever region
    reads it later; the text unchanged when it is no valid number."""
    e164 = normalize_phone(raw, region)
    return format_phone(e164) if e164 else (raw or "").strip()


def example_phone(region: str) -> str:
    """A number of the region as people there write it: "8 (912) 345-67-89", "020 7946 0018"."""
    number = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE) \
        or phonenumbers.example_number(region)
    if number is None:
        return "+44 20 7946 0000"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def invalid_phone_message(value: str, region: str) -> str:
    """“…” is not a valid phone number, with an example of the user's country, in their language."""
    return _("“%(value)s” is not a valid phone number in %(country)s. Type it like %(example)s, "
             "or with the country code, e.g. %(international)s.") % {
        "value": value, "country": region_name(region), "example": example_phone(region),
        "international": format_phone(normalize_phone(example_phone(region), region) or "+442079460000")}


TAIL_DIGITS = (6, 8)  # "the last 6-8 digits" people remember of a number
TAIL_SEPARATOR = "|"
# crm_phone_tails(phones): the array's numbers, each followed by "|", as one text a trigram index
# can serve: "ends with 6383811" is LIKE '%6383811|%'. Created in crm/migrations/0016.
PHONE_TAILS_SQL = """
CREATE OR REPLACE FUNCTION crm_phone_tails(phones varchar[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT array_to_string(phones, '|') || '|' $$;
"""


class PhoneTails(Func):
    """The numbers of a phone array as one text for ends-with search (see PHONE_TAILS_SQL)."""

    function = "crm_phone_tails"
    output_field = TextField()


def phone_tail(text: str) -> str:
    """The digits of a number's end ("638-38-11" → "6383811"), when the text is 6-8 digits in
    phone punctuation, else ""."""
    if not looks_like_phone(text) or "+" in text:
        return ""
    digits = _digits(text)
    return digits if TAIL_DIGITS[0] <= len(digits) <= TAIL_DIGITS[1] else ""


def looks_like_phone(text: str) -> bool:
    digits = sum(ch.isdigit() for ch in text)
    return digits >= 6 and all(ch.isdigit() or ch in " +-()./" for ch in text.strip())


@lru_cache(maxsize=8192)  # a pure function of the number; parsing is ~0.1 ms, lists show 50 a page
def format_phone(e164: str) -> str:
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def is_mobile(e164: str) -> bool:
    """Whether a stored (E.164) number is a mobile one: +7 916 … yes, +44 20 … no. Unknown: no."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE
