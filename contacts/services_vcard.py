"""Writes for vCard import: contacts created from a .vcf file, reported card by card."""

from collections import defaultdict
from dataclasses import dataclass, field

import pghistory
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from accounts import services as account_services
from accounts.models import Account
from contacts.models import Contact, LeadSource
from contacts.vcard import VCardContact, VCardResult, parse_vcards
from crm.models import User
from crm.phones import normalize_phone, region_name, user_region
from crm.visibility import can_create, require_create

BATCH_SIZE = 500
EMAIL_MAX_LENGTH = 254
WEBSITE_MAX_LENGTH = 200  # the model's URLField
# Fields the import sets itself from trusted values; validating them would cost a query per card.
_NOT_VALIDATED = ["owner", "team", "account"]


@dataclass
class VCardImportReport:
    total: int = 0
    created: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)  # one per failed card
    warnings: list[str] = field(default_factory=list)  # imported, but something was left out
    contact_ids: list[int] = field(default_factory=list)


@transaction.atomic
def contacts_import_vcard(*, actor: User, data: bytes) -> VCardImportReport:
    """Create a contact owned by `actor` for every usable card of a .vcf file.

    A card that cannot be used (no name, a field too long, …) is counted as failed with
    its message and the others are still created; a file that is not vCard at all raises
    VCardError and nothing is written. The company (ORG) links the contact to an account
    when exactly one account of that exact name is visible to the actor; when none is, the account is
    created (as the contacts import does), once per name, if the actor may create accounts.
    """
    require_create(actor, Contact)
    results = parse_vcards(data)
    report = VCardImportReport(total=len(results))
    names = {r.contact.organization for r in results if r.ok and r.contact.organization}
    accounts = _accounts_by_name(actor, names)
    if can_create(actor, Account):
        for name in sorted(names - set(accounts) - _taken_names(names - set(accounts))):
            try:
                accounts[name] = [account_services.account_create(actor=actor, name=name[:200]).pk]
            except ValidationError:
                continue  # a name the account form refuses: the cards say "no account" below
            report.warnings.append(_("The account “%(name)s” was created for the imported contacts.")
                                   % {"name": name})

    pending: list[Contact] = []
    for result in results:
        if not result.ok:
            report.failed += 1
            report.errors.append(result.error)
            continue
        contact, warnings = _build_contact(actor, result, accounts)
        try:
            contact.full_clean(exclude=_NOT_VALIDATED, validate_unique=False)
        except ValidationError as error:
            report.failed += 1
            report.errors.append(_card_error(result, error))
            continue
        report.warnings.extend(result.warnings + warnings)  # only for cards that are imported
        contact.full_name = contact.compose_full_name()  # save() would do it; bulk_create does not call save()
        pending.append(contact)

    with pghistory.context(source="vcard_import", actor=actor.pk):
        for start in range(0, len(pending), BATCH_SIZE):
            created = Contact.objects.bulk_create(pending[start : start + BATCH_SIZE])
            report.contact_ids.extend(contact.pk for contact in created)
    report.created = len(report.contact_ids)
    return report


def _accounts_by_name(actor: User, names: set[str]) -> dict[str, list[int]]:
    """Visible accounts whose name is exactly one of `names` (one query, whatever the number of cards)."""
    found: dict[str, list[int]] = defaultdict(list)
    if names:
        rows = Account.objects.visible_to(actor).filter(name__in=names).values_list("name", "id")
        for name, pk in rows:
            found[name].append(pk)
    return found


def _taken_names(names: set[str]) -> set[str]:
    """Of `names`, those a live account already has, in any case and whoever owns it: an import never
    makes a second "Globex" beside one, nor copies an account the actor may not see."""
    if not names:
        return set()
    lowered = {name.lower(): name for name in names}
    taken = (Account.objects.filter(deleted_at__isnull=True).annotate(lname=Lower("name"))
             .filter(lname__in=lowered).values_list("lname", flat=True))
    return {lowered[name] for name in taken}


def _build_contact(actor: User, result: VCardResult, accounts: dict[str, list[int]]) -> tuple[Contact, list[str]]:
    card: VCardContact = result.contact
    warnings: list[str] = []
    emails: list[str] = []
    email_kinds: dict[str, str] = {}
    phone_kinds: dict[str, str] = {}
    for raw in card.emails:
        email = raw.strip().lower()
        try:
            if len(email) > EMAIL_MAX_LENGTH:
                raise ValidationError("too long")
            validate_email(email)
        except ValidationError:
            warnings.append(_("%(card)s: “%(value)s” is not a valid e-mail address and was not imported.")
                            % {"card": result.label, "value": raw})
            continue
        if email not in emails:
            emails.append(email)
            if kind := card.email_kinds.get(raw):
                email_kinds[email] = kind
    phones: list[str] = []
    to_check: list[str] = []
    region = user_region(actor)
    for raw in card.phones:
        phone = normalize_phone(raw, region)
        if phone is None:
            # Never silently dropped: kept as typed in "phone numbers to check", like the contacts import.
            warnings.append(
                _("%(card)s: “%(value)s” is not a valid phone number: it is kept under “phone numbers to check”. "
                  "Numbers without a country code are read as %(region)s numbers.")
                % {"card": result.label, "value": raw, "region": region_name(region)}
            )
            if raw.strip()[:40] not in to_check:
                to_check.append(raw.strip()[:40])
            continue
        if phone not in phones:
            phones.append(phone)
            if kind := card.phone_kinds.get(raw):
                phone_kinds[phone] = kind
    website = card.website
    if website:
        try:
            URLValidator(schemes=["http", "https"])(website)
            if len(website) > WEBSITE_MAX_LENGTH:
                raise ValidationError("too long")
        except ValidationError:
            warnings.append(_("%(card)s: “%(value)s” is not a valid web address and was not imported.")
                            % {"card": result.label, "value": website[:100]})
            website = ""

    account_id = None
    if card.organization:
        matches = accounts.get(card.organization, [])
        if len(matches) == 1:
            account_id = matches[0]
        elif matches:
            warnings.append(_("%(card)s: several accounts are named “%(name)s”; link the right one by hand.")
                            % {"card": result.label, "name": card.organization})
        else:
            warnings.append(_("%(card)s: no account named “%(name)s” was found; the contact has no account.")
                            % {"card": result.label, "name": card.organization})

    contact = Contact(
        owner=actor,
        team_id=actor.team_id,
        first_name=card.first_name,
        middle_name=card.middle_name,
        last_name=card.last_name,
        title=card.title,
        department=card.department,
        account_id=account_id,
        emails=emails,
        email_kinds=email_kinds,
        phones=phones,
        phone_kinds=phone_kinds,
        phones_to_check=to_check,
        website=website,
        birthday=card.birthday,
        address=card.address,
        city=card.city,
        region=card.region,
        postal_code=card.postal_code,
        country=card.country,
        description=card.note,
        tags=card.tags,
        lead_source=LeadSource.IMPORT,
    )
    return contact, warnings


def _card_error(result: VCardResult, error: ValidationError) -> str:
    problems = []
    for name, messages in error.message_dict.items():
        try:
            label = str(Contact._meta.get_field(name).verbose_name)
        except FieldDoesNotExist:  # NON_FIELD_ERRORS
            label = ""
        text = " ".join(messages)
        problems.append(f"{label}: {text}" if label else text)
    return _("%(card)s: not imported: %(problems)s") % {"card": result.label, "problems": "; ".join(problems)}
